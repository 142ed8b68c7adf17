/**
 * Backpressure: a client that pipelines thousands of `get`s for ~100 KB values and never
 * reads must not make the gateway read (and buffer) without bound. The gateway stops
 * reading from it, so the client's own write side backs up; other clients are served
 * promptly meanwhile; and once the client reads, every reply arrives, in order.
 *
 * The gateway runs in this process, so its buffering is observed through its own `stats`
 * (bytes_read, bytes_written, get_hits) from a second connection.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { expect } from 'chai';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { RawConnection as Conn, parseStats } from '../helpers/raw-connection.js';



const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function stat(stats: string, name: string): number {
  const value = parseStats(stats).get(name);
  if (value === undefined) throw new Error(`no ${name} in stats`);
  return Number(value);
}

const VALUE_SIZE = 100 * 1024;
const KEYS = ['bp0', 'bp1', 'bp2'];
/** Short requests for big values: one read chunk from the client holds thousands of them. */
const BIG_REQUESTS = 10_000;
/** Then long requests with small replies (8 absent 250-byte keys each), ~8 MB in all: more than the kernel buffers hold. */
const PAD_REQUESTS = 4_000;
const PAD_KEYS = Array.from({ length: 8 }, (_, i) => `${String(i)}${'p'.repeat(249)}`);
/** What the gateway may have produced for the stalled client: socket buffers and a little more, not its whole backlog. */
const MAX_BUFFERED_REPLY_BYTES = 64 * 1024 * 1024;

describe('e2e: backpressure from a client that does not read', function () {
  this.timeout(90_000);
  let gateway: RunningGateway;
  let control: Conn;
  let stalled: net.Socket | undefined;
  const values = KEYS.map(() => randomBytes(VALUE_SIZE));

  before(async () => {
    gateway = await startGateway();
    control = await Conn.open(gateway.port);
    for (const [i, key] of KEYS.entries()) {
      const reply = await control.request(Buffer.concat([
        Buffer.from(`set ${key} 0 0 ${VALUE_SIZE}\r\n`), values[i]!, Buffer.from('\r\n'),
      ]));
      expect(reply).to.equal('STORED\r\n');
    }
  });

  after(async () => {
    stalled?.destroy();
    await control?.close();
    await gateway?.stop();
  });

  it('stops reading from it, serves others meanwhile, and delivers every reply in order once it reads', async () => {
    const before = await control.request('stats\r\n');

    // A bare socket, not RawConnection: this client must not read at first, its own write backlog is
    // measured, and later its ~1 GB of replies are checked as they stream in rather than buffered.
    const socket = net.connect(gateway.port, '127.0.0.1');
    stalled = socket;
    socket.setNoDelay(true);
    socket.on('error', () => undefined); // a reset shows up as a short read below
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    // No 'data' listener and paused: this client reads nothing for now.
    socket.pause();

    const big = Buffer.from(Array.from({ length: BIG_REQUESTS }, (_, i) => `get ${KEYS[i % KEYS.length]}\r\n`).join(''));
    const pad = Buffer.from(`get ${PAD_KEYS.join(' ')}\r\n`);
    let refused = 0;
    if (!socket.write(big)) refused++;
    for (let i = 0; i < PAD_REQUESTS; i++) if (!socket.write(pad)) refused++;
    const written = big.length + pad.length * PAD_REQUESTS;

    // Let the gateway do whatever it does until it makes no more progress (bounded).
    let hits = -1;
    let stats = before;
    const settleDeadline = Date.now() + 15_000;
    for (let stable = 0, polls = 0; stable < 3 && polls < 60 && Date.now() < settleDeadline; polls++) {
      await sleep(250);
      stats = await control.request('stats\r\n');
      const now = stat(stats, 'get_hits');
      stable = now === hits ? stable + 1 : 0;
      hits = now;
    }
    const executed = stat(stats, 'get_hits') - stat(before, 'get_hits');
    const readByGateway = stat(stats, 'bytes_read') - stat(before, 'bytes_read');
    const producedForClient = stat(stats, 'bytes_written') - stat(before, 'bytes_written');
    const backlog = socket.writableLength;
    console.log(`      (stalled: client wrote ${written} B, ${backlog} B still queued in the client; gateway read ${readByGateway} B, ` +
      `ran ${executed} gets, produced ${producedForClient} B of replies)`);

    // The client's write side backs up: the gateway stopped reading from it.
    expect(refused, 'write() returned false').to.be.greaterThan(0);
    expect(backlog, 'bytes stuck in the client socket').to.be.greaterThan(1024 * 1024);
    expect(readByGateway, 'bytes the gateway read').to.be.below(written - 1024 * 1024);
    // ...and it did not keep running the pipelined requests into an ever larger reply buffer.
    expect(producedForClient, `reply bytes the gateway produced for a client that reads nothing (${executed} gets ran)`)
      .to.be.below(MAX_BUFFERED_REPLY_BYTES);
    // Replies go to the socket as they are produced, so the gateway stops within one merged
    // batch of pipelined gets (up to 128 of them) rather than producing the whole batch first.
    expect(producedForClient, 'reply bytes produced: less than one merged batch of 128 values')
      .to.be.below(128 * VALUE_SIZE);

    // Other clients are served promptly meanwhile.
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      expect(await control.request(`set other-${i} 0 0 2\r\nok\r\n`, 2000)).to.equal('STORED\r\n');
      expect(await control.request(`get other-${i}\r\n`, 2000)).to.equal(`VALUE other-${i} 0 2\r\nok\r\nEND\r\n`);
      expect(Date.now() - started, 'set+get for another client').to.be.below(1000);
    }
    const fresh = await Conn.open(gateway.port);
    try {
      const started = Date.now();
      expect(await fresh.request('get bp1\r\n', 2000)).to.equal(`VALUE bp1 0 ${VALUE_SIZE}\r\n${values[1]!.toString('latin1')}\r\nEND\r\n`);
      expect(Date.now() - started, 'a new client\'s get').to.be.below(1000);
    } finally {
      await fresh.close();
    }

    // Now read: every reply arrives, in order, intact.
    const total = BIG_REQUESTS + PAD_REQUESTS;
    const trailer = Buffer.from('\r\nEND\r\n');
    const headers = KEYS.map((key) => Buffer.from(`VALUE ${key} 0 ${VALUE_SIZE}\r\n`));
    const end = Buffer.from('END\r\n');
    let pending: Buffer = Buffer.alloc(0);
    let index = 0;
    let mismatch: string | undefined;
    const consume = (): void => {
      while (index < total && mismatch === undefined) {
        if (index < BIG_REQUESTS) {
          const k = index % KEYS.length;
          const need = headers[k]!.length + VALUE_SIZE + trailer.length;
          if (pending.length < need) return;
          const header = pending.subarray(0, headers[k]!.length);
          const data = pending.subarray(headers[k]!.length, headers[k]!.length + VALUE_SIZE);
          const tail = pending.subarray(headers[k]!.length + VALUE_SIZE, need);
          if (!header.equals(headers[k]!) || !data.equals(values[k]!) || !tail.equals(trailer)) {
            mismatch = `reply ${index}: expected ${KEYS[k]}, got ${JSON.stringify(pending.subarray(0, 60).toString('latin1'))}`;
            return;
          }
          pending = pending.subarray(need);
        } else {
          if (pending.length < end.length) return;
          if (!pending.subarray(0, end.length).equals(end)) {
            mismatch = `reply ${index}: expected END, got ${JSON.stringify(pending.subarray(0, 60).toString('latin1'))}`;
            return;
          }
          pending = pending.subarray(end.length);
        }
        index++;
      }
    };
    const readStarted = Date.now();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 60_000);
      const finish = (): void => {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve();
      };
      const onData = (chunk: Buffer): void => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        consume();
        if (index === total || mismatch !== undefined) finish();
      };
      socket.on('data', onData);
      socket.once('close', finish);
      socket.resume();
    });
    expect(mismatch).to.equal(undefined);
    expect(index, `replies received in ${Date.now() - readStarted} ms`).to.equal(total);
    expect(pending.length, 'nothing after the last reply').to.equal(0);
    console.log(`      (read ${total} replies in ${Date.now() - readStarted} ms)`);

    // The connection is still usable afterwards.
    socket.write('version\r\n');
    const version = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve(''), 5000);
      socket.once('data', (chunk: Buffer) => {
        clearTimeout(timer);
        resolve(chunk.toString('latin1'));
      });
    });
    expect(version).to.match(/^VERSION 1\.6\.18-memgate-\S+\r\n$/);
  });
});
