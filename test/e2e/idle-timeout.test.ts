/**
 * listen.idleTimeout: silent clients (a slowloris that sends half a command and stops, one that
 * never sends, a stalled TLS handshake) are closed and counted in idle_kicks, while clients that
 * talk, or whose request is still being answered, are not. Bounds here are generous: they check
 * that closes come, not how fast (docs/benchmarks.md has figures).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { parseStats, RawConnection } from '../helpers/raw-connection.js';
import { sleep, waitFor } from '../helpers/wait.js';

const IDLE_SECONDS = 1;
/** a close that takes longer than this after the timeout is a failure, on any machine */
const LATE_MS = 8000;
/**
 * A close must not come before the timeout; the gateway's timer may start a little before the
 * client's clock does (at accept, before the client sees its connect), hence the slack.
 */
const NOT_BEFORE_MS = IDLE_SECONDS * 1000 - 250;

async function statsOf(port: number, group = ''): Promise<Map<string, string>> {
  const conn = await RawConnection.open(port);
  try {
    return parseStats(await conn.request(`stats${group ? ` ${group}` : ''}\r\n`));
  } finally {
    await conn.close();
  }
}

/** Opens a connection, sends `data` (maybe nothing), and resolves with ms from then to the server's close. */
async function silentAfter(port: number, data: string | Buffer): Promise<{ conn: RawConnection; closedAfterMs: Promise<number> }> {
  const conn = await RawConnection.open(port);
  if (data.length > 0) await conn.send(data);
  const sent = Date.now();
  const closedAfterMs = conn.readUntilClose(IDLE_SECONDS * 1000 + LATE_MS).then((res) => {
    if (!res.closed) throw new Error(`still open ${IDLE_SECONDS * 1000 + LATE_MS} ms after going silent`);
    return Date.now() - sent;
  });
  return { conn, closedAfterMs };
}

describe('e2e: idle timeout (listen.idleTimeout)', function () {
  this.timeout(90_000);
  let gateway: RunningGateway;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-idle-'));
    await new Promise<void>((resolve, reject) => execFile('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1',
    ], (error) => (error ? reject(error) : resolve())));
    gateway = await startGateway({
      config: {
        listen: { idleTimeout: IDLE_SECONDS },
        // TLS and plain on one port: the silence before a TLS handshake is covered too.
        tls: { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), plainToo: true },
        sessions: { lockWaitMs: 2500 },
      },
    });
  });

  after(async () => {
    await gateway?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('closes a slowloris client (half a command, then silence) and counts it in idle_kicks', async () => {
    const before = Number((await statsOf(gateway.port)).get('idle_kicks'));
    const { closedAfterMs } = await silentAfter(gateway.port, 'set slow 0 0 100\r\nonly part of the val');
    expect(await closedAfterMs).to.be.at.least(NOT_BEFORE_MS);
    expect(Number((await statsOf(gateway.port)).get('idle_kicks'))).to.equal(before + 1);
  });

  it('closes a client that never sends, and one whose TLS handshake stalls', async () => {
    const before = Number((await statsOf(gateway.port)).get('idle_kicks'));
    const silent = await silentAfter(gateway.port, '');
    // The first bytes of a TLS record header: a handshake announced and never sent.
    const stalled = await silentAfter(gateway.port, Buffer.from([0x16, 0x03, 0x01]));
    expect(await silent.closedAfterMs).to.be.at.least(NOT_BEFORE_MS);
    expect(await stalled.closedAfterMs).to.be.at.least(NOT_BEFORE_MS);
    expect(Number((await statsOf(gateway.port)).get('idle_kicks'))).to.equal(before + 2);
  });

  it('keeps a client that talks more often than the timeout', async () => {
    const conn = await RawConnection.open(gateway.port);
    try {
      for (let i = 0; i < 6; i++) {
        await sleep(IDLE_SECONDS * 1000 / 2);
        expect(await conn.request('version\r\n')).to.match(/^VERSION /);
      }
    } finally {
      await conn.close();
    }
  });

  it('keeps a client whose request is being answered for longer than the timeout', async () => {
    const holder = await RawConnection.open(gateway.port);
    const waiter = await RawConnection.open(gateway.port);
    let waiting = true;
    try {
      const lock = 'add memc.sess.key.lock.idle 0 0 1\r\n1\r\n';
      expect(await holder.request(lock)).to.equal('STORED\r\n');
      // The holder talks, so it keeps its lock (a kicked holder would release it).
      const talking = (async () => {
        while (waiting) {
          await sleep(300);
          expect(await holder.request('version\r\n')).to.match(/^VERSION /);
        }
      })();
      // The add waits sessions.lockWaitMs (2.5 s) for a release that never comes.
      expect(await waiter.request(lock, 10_000)).to.equal('NOT_STORED\r\n');
      waiting = false;
      await talking;
    } finally {
      waiting = false;
      await holder.close();
      await waiter.close();
    }
  });

  it('closes a client that stops reading its replies', async () => {
    const setter = await RawConnection.open(gateway.port);
    try {
      const value = 'v'.repeat(512 * 1024);
      expect(await setter.request(`set idle-big 0 0 ${value.length}\r\n${value}\r\n`)).to.equal('STORED\r\n');
    } finally {
      await setter.close();
    }
    const before = Number((await statsOf(gateway.port)).get('idle_kicks'));
    // 64 gets of 512 KB: far more than the socket buffers hold, so its replies wait on the client.
    const reader = net.connect({ host: '127.0.0.1', port: gateway.port });
    reader.on('error', () => undefined);
    reader.pause();
    const closed = new Promise<void>((resolve) => reader.once('close', () => resolve()));
    reader.write('get idle-big\r\n'.repeat(64));
    // A paused client sees the close only once it reads again; the gateway's count comes first.
    await waitFor('the gateway to close the client that does not read', async () =>
      Number((await statsOf(gateway.port)).get('idle_kicks')) > before, IDLE_SECONDS * 1000 + LATE_MS, 200);
    expect(Number((await statsOf(gateway.port)).get('idle_kicks'))).to.equal(before + 1);
    reader.resume();
    await closed;
  });

  it('reports idle_timeout in stats settings, and idle_kicks only when it is set, as memcached', async () => {
    expect((await statsOf(gateway.port, 'settings')).get('idle_timeout')).to.equal(String(IDLE_SECONDS));
    const plain = await startGateway();
    try {
      const stats = await statsOf(plain.port);
      expect(stats.has('auth_errors')).to.equal(true);
      expect(stats.has('idle_kicks')).to.equal(false);
    } finally {
      await plain.stop();
    }
  });

  it('closes 1,000 slowloris clients while another client goes on being served', async function () {
    this.timeout(120_000);
    const before = Number((await statsOf(gateway.port)).get('idle_kicks'));
    const busy = await RawConnection.open(gateway.port);
    let stop = false;
    let served = 0;
    const busyLoop = (async () => {
      expect(await busy.request('set busy 0 0 1\r\nx\r\n')).to.equal('STORED\r\n');
      while (!stop) {
        expect(await busy.request('get busy\r\n')).to.equal('VALUE busy 0 1\r\nx\r\nEND\r\n');
        served++;
        await sleep(20);
      }
    })();
    try {
      const slow = [];
      for (let i = 0; i < 1000; i++) slow.push(await silentAfter(gateway.port, `get slowloris-${i}`));
      const servedWhileOpening = served;
      const closes = await Promise.all(slow.map((s) => s.closedAfterMs));
      expect(Math.min(...closes)).to.be.at.least(NOT_BEFORE_MS);
      expect(served, 'requests of the busy client answered after the 1,000 had connected').to.be.greaterThan(servedWhileOpening);
      await waitFor('idle_kicks to count the 1,000', async () => Number((await statsOf(gateway.port)).get('idle_kicks')) >= before + 1000, 5000);
      expect(Number((await statsOf(gateway.port)).get('idle_kicks'))).to.equal(before + 1000);
    } finally {
      stop = true;
      await busyLoop;
      await busy.close();
    }
  });
});
