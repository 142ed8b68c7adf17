// Hostile clients (a part of `npm run bench`; alone: `node dist/bench/hostile.js [--idle-timeout S]`).
// A well-behaved client (2 connections alternating get and set, in a worker thread) measures
// its p99 alone, then while each hostile load runs against the same gateway process:
// 1,000 connections that send half a command and stall, a client sending one byte a second,
// 10,000 connections opened and closed as fast as possible, a client pipelining gets and never
// reading, repeated values just over the item size limit, and binary packets whose huge
// declared body never arrives. Printed: p99 against the baseline (the target is at most 3×),
// and the gateway's RSS and open fds after each. --idle-timeout S passes `--idle-timeout S` to
// the gateway and reports how many stallers it closed in time.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { itemTotalSize } from '../src/model/item-rules.js';
import { runLoad, type LoadResult, type LoadSpec } from './compare/load.js';
import { rssKb, serverStats, startGateway, type ServerProcess } from './compare/processes.js';
import { benchLogger, logLine, withBenchLifecycle } from './lifecycle.js';
import { startBenchMariadb } from './mariadb.js';

const HOST = '127.0.0.1';
const ITEM_SIZE_MAX = 1024 * 1024;

export interface HostileOptions {
  /** seconds each phase lasts (BENCH_HOSTILE_SECONDS, default 5) */
  seconds: number;
  /** passed to the gateway as --idle-timeout, in seconds; undefined leaves it off */
  idleTimeoutSeconds?: number;
}

interface Phase {
  name: string;
  /** starts the hostile load; the returned function stops it and says what happened */
  start(port: number, seconds: number): Promise<() => Promise<string>>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: HOST }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sockets that count how many the server closed, and are destroyed at the end. */
class Crowd {
  readonly sockets: net.Socket[] = [];
  closedByServer = 0;

  add(socket: net.Socket): net.Socket {
    socket.on('error', () => {});
    socket.once('end', () => this.closedByServer++);
    this.sockets.push(socket);
    return socket;
  }

  destroy(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

function stallers(count: number, idleTimeoutSeconds: number | undefined): Phase {
  return {
    name: `${count} half-command stallers`,
    async start(port) {
      const crowd = new Crowd();
      const started = Date.now();
      for (let i = 0; i < count; i++) {
        const socket = crowd.add(await connect(port));
        socket.write(i % 2 === 0 ? `set stall${i} 0 0 10\r\nabc` : `get stall${i}`);
      }
      return async () => {
        const waited = (Date.now() - started) / 1000;
        if (idleTimeoutSeconds !== undefined && waited < idleTimeoutSeconds + 2) await sleep((idleTimeoutSeconds + 2 - waited) * 1000);
        const closed = crowd.closedByServer;
        crowd.destroy();
        return idleTimeoutSeconds === undefined
          ? `${closed} closed by the gateway (no idle timeout)`
          : `${closed} of ${count} closed within ${idleTimeoutSeconds + 2} s (idle timeout ${idleTimeoutSeconds} s)`;
      };
    },
  };
}

const oneByteASecond: Phase = {
  name: 'one byte a second',
  async start(port) {
    const crowd = new Crowd();
    const socket = crowd.add(await connect(port));
    const bytes = Buffer.from('get slow\r\n'.repeat(100));
    let sent = 0;
    let replies = '';
    socket.on('data', (d: Buffer) => (replies += d.toString('latin1')));
    const timer = setInterval(() => {
      if (!socket.destroyed) socket.write(bytes.subarray(sent % bytes.length, (sent % bytes.length) + 1));
      sent++;
    }, 1000);
    return async () => {
      clearInterval(timer);
      crowd.destroy();
      return `${sent} bytes sent, ${replies.split('END\r\n').length - 1} gets answered`;
    };
  },
};

function connectClose(count: number): Phase {
  return {
    name: `${count} connects and closes`,
    async start(port) {
      let done = 0;
      let failed = 0;
      let started = 0;
      const worker = async () => {
        while (started < count) {
          started++;
          try {
            (await connect(port)).destroy();
            done++;
          } catch {
            failed++;
          }
        }
      };
      const since = Date.now();
      const all = Promise.all(Array.from({ length: 32 }, worker));
      return async () => {
        await all;
        return `${done} done (${failed} failed) in ${((Date.now() - since) / 1000).toFixed(1)} s`;
      };
    },
  };
}

const neverReader: Phase = {
  name: 'pipelining never-reader',
  async start(port) {
    const crowd = new Crowd();
    const socket = crowd.add(await connect(port));
    socket.pause();
    const chunk = Buffer.from('get never\r\n'.repeat(1000));
    let written = 0;
    let stop = false;
    const pump = () => {
      while (!stop && socket.write(chunk)) written += chunk.length;
    };
    socket.on('drain', pump);
    pump();
    return async () => {
      stop = true;
      crowd.destroy();
      return `${(written / 1e6).toFixed(1)} MB of gets accepted before the gateway stopped reading`;
    };
  },
};

const overLimit: Phase = {
  name: 'values just over the size limit',
  async start(port) {
    const crowd = new Crowd();
    const socket = crowd.add(await connect(port));
    const value = Buffer.alloc(ITEM_SIZE_MAX + 1 - itemTotalSize('over'.length, 0, 0), 'v');
    const request = Buffer.concat([Buffer.from(`set over 0 0 ${value.length}\r\n`), value, Buffer.from('\r\n')]);
    let sent = 0;
    let answered = '';
    socket.on('data', (d: Buffer) => (answered += d.toString('latin1')));
    let stop = false;
    const loop = (async () => {
      while (!stop && !socket.destroyed) {
        if (!socket.write(request)) await new Promise((resolve) => socket.once('drain', resolve));
        sent++;
        await sleep(10);
      }
    })();
    return async () => {
      stop = true;
      await loop;
      crowd.destroy();
      return `${sent} sent, ${answered.split('SERVER_ERROR object too large for cache').length - 1} refused`;
    };
  },
};

function hugeBinaryBodies(count: number): Phase {
  return {
    name: `${count} binary packets with a huge declared body`,
    async start(port) {
      const crowd = new Crowd();
      for (let i = 0; i < count; i++) {
        const header = Buffer.alloc(24 + 8 + 4);
        header[0] = 0x80;
        header[1] = 0x01; // SET
        header.writeUInt16BE(4, 2);
        header[4] = 8;
        header.writeUInt32BE(0x7fffffff, 8);
        header.write('huge', 32, 'latin1');
        crowd.add(await connect(port)).write(header);
      }
      return async () => {
        const closed = crowd.closedByServer;
        crowd.destroy();
        return `${closed} closed by the gateway`;
      };
    },
  };
}

function openFds(pid: number): Promise<number> {
  return readdir(`/proc/${pid}/fd`).then((list) => list.length, () => Number.NaN);
}

function wellBehaved(port: number, seconds: number): LoadSpec {
  return {
    target: { kind: 'memcache', protocol: 'text', port },
    workload: 'alternate', connections: 2, depth: 1, seconds, warmupSeconds: 0.5, keyCount: 100, keyPrefix: 'polite:', valueSize: 100,
  };
}

export async function runHostile(options: HostileOptions): Promise<void> {
  const logger = benchLogger();
  await withBenchLifecycle({ logger, log: logLine }, async (lifecycle) => {
    const { own } = lifecycle;
    const dir = await own('temp dir', await mkdtemp(path.join(os.tmpdir(), 'memgate-hostile-')), (d) => rm(d, { recursive: true, force: true }));
    const db = await startBenchMariadb(lifecycle, { dataDir: dir, database: 'hostile', logger });
    const extraArgs = options.idleTimeoutSeconds === undefined ? [] : ['--idle-timeout', String(options.idleTimeoutSeconds)];
    const gateway: ServerProcess = await own('gateway', await startGateway({ dbUrl: db.url, table: 'hostile', extraArgs }), (g) => g.stop());
    const phases: Phase[] = [
      stallers(1000, options.idleTimeoutSeconds), oneByteASecond, connectClose(10_000), neverReader, overLimit, hugeBinaryBodies(100),
    ];
    const measure = async (): Promise<LoadResult> => {
      const result = await runLoad(wellBehaved(gateway.port, options.seconds));
      if (result.errors > 0) throw new Error(`the well-behaved client got ${result.errors} errors: ${result.firstError}`);
      return result;
    };
    await measure(); // warms the gateway and fills the keys
    const baseline = await measure();
    const rows: string[][] = [['alone', baseline.p99Ms.toFixed(2), '1.00', String(rssKb(gateway.pid)), String(await openFds(gateway.pid)), '']];
    for (const phase of phases) {
      logLine(`hostile: ${phase.name} …`);
      const stop = await phase.start(gateway.port, options.seconds);
      const loaded = await measure();
      const rss = rssKb(gateway.pid);
      const fds = await openFds(gateway.pid);
      const conns = (await serverStats(gateway.port)).get('curr_connections') ?? '?';
      const note = await stop();
      rows.push([phase.name, loaded.p99Ms.toFixed(2), (loaded.p99Ms / baseline.p99Ms).toFixed(2), String(rss), `${fds}`, `${conns} conns; ${note}`]);
    }
    await sleep(1000);
    console.log('');
    console.log(`hostile clients: a well-behaved client (2 conns, get/set alternating) for ${options.seconds} s per row; target p99 ≤ 3× alone`);
    console.log('phase                                        p99 ms   ×alone   RSS kB   fds  what happened');
    for (const [name, p99, ratio, rss, fds, note] of rows) {
      console.log(`${name!.padEnd(44)} ${p99!.padStart(7)} ${ratio!.padStart(8)} ${rss!.padStart(8)} ${fds!.padStart(5)}  ${note}`);
    }
    console.log(`after all: RSS ${rssKb(gateway.pid)} kB, ${await openFds(gateway.pid)} fds; the gateway still answers: ${(await measure()).errors === 0 ? 'yes' : 'no'}`);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { 'idle-timeout': { type: 'string' }, seconds: { type: 'string' } } });
  runHostile({
    seconds: Number(values.seconds ?? process.env['BENCH_HOSTILE_SECONDS'] ?? 5),
    idleTimeoutSeconds: values['idle-timeout'] === undefined ? undefined : Number(values['idle-timeout']),
  }).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
