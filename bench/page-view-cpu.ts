// npm run bench:page-view-cpu — the gateway's own CPU on a PHP session page view (about 40 s,
// loopback only). One embedded MariaDB and one `memgate serve` child process; closed-loop
// clients each do what php-memcached does per page view with its defaults: a new TCP
// connection, binary ADD lock, GETK data, SET data (1 KB, exptime 1440), DELETE lock, QUIT.
// Printed per row: page views/s, requests/s, and CPU (user + system, all threads, from
// /proc/<pid>/stat) of the gateway per request and per view, and of the database per view.
// A depth-1 get/set 90/10 row over persistent connections gives the plain per-request cost.
//
// BENCH_SECONDS (default 4) per row after BENCH_WARMUP_SECONDS (1); BENCH_ROUNDS (1) repeats
// every row; BENCH_GATEWAY_NODE_ARGS='--cpu-prof --cpu-prof-dir=…' profiles the gateway.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HEADER_LENGTH, Opcode, Status } from '../src/protocol/binary/opcodes.js';
import { binaryRequest } from './compare/memcache-protocol.js';
import { benchValue, runLoad } from './compare/load.js';
import { processCpuSeconds, startGateway, systemCpuSeconds } from './compare/processes.js';
import { benchLogger, logLine, withBenchLifecycle } from './lifecycle.js';
import { startBenchMariadb } from './mariadb.js';

const HOST = '127.0.0.1';
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 4);
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 1);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 1);
const SESSIONS_PER_CLIENT = 50;
const VALUE = benchValue(1024);
const SESSION_PREFIX = 'memc.sess.key.';
const SESSION_EXPTIME = 1440;
/** A reply that does not come within this long fails the run rather than hanging it. */
const REPLY_TIMEOUT_MS = 10_000;
const REQUESTS_PER_VIEW = 4; // QUIT gets no reply and is not counted

/** A binary request with opaque 0, as php-memcached sends them. */
function packet(opcode: number, key: string, extras: Buffer = Buffer.alloc(0), value: Buffer = Buffer.alloc(0)): Buffer {
  return binaryRequest(opcode, Buffer.from(key, 'latin1'), extras, value, 0);
}

/** flags 0 and an exptime, as the extras of ADD and SET. */
function storeExtras(exptime: number): Buffer {
  const extras = Buffer.alloc(8);
  extras.writeUInt32BE(exptime, 4);
  return extras;
}

/** The four request packets (and QUIT) of one page view of session `sid`, as php-memcached sends them. */
function pageViewPackets(sid: string): { requests: Buffer[]; expected: number[][]; quit: Buffer } {
  const lock = `${SESSION_PREFIX}lock.${sid}`;
  const data = `${SESSION_PREFIX}${sid}`;
  return {
    requests: [
      packet(Opcode.ADD, lock, storeExtras(0), Buffer.from('1')),
      packet(Opcode.GETK, data),
      packet(Opcode.SET, data, storeExtras(SESSION_EXPTIME), VALUE),
      packet(Opcode.DELETE, lock),
    ],
    expected: [[Status.SUCCESS], [Status.SUCCESS, Status.KEY_ENOENT], [Status.SUCCESS], [Status.SUCCESS]],
    quit: packet(Opcode.QUIT, ''),
  };
}

/** Reads whole binary replies off a socket, one at a time. */
class ReplyReader {
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: ((status: number) => void) | null = null;

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.deliver();
    });
  }

  /** The status of the next reply. */
  next(): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply in time')), REPLY_TIMEOUT_MS);
      this.waiting = (status) => {
        clearTimeout(timer);
        resolve(status);
      };
      this.deliver();
    });
  }

  private deliver(): void {
    if (!this.waiting || this.buffered.length < HEADER_LENGTH) return;
    const length = HEADER_LENGTH + this.buffered.readUInt32BE(8);
    if (this.buffered.length < length) return;
    const status = this.buffered.readUInt16BE(6);
    this.buffered = this.buffered.subarray(length);
    const waiting = this.waiting;
    this.waiting = null;
    waiting(status);
  }
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

async function pageView(port: number, sid: string): Promise<void> {
  const socket = await connect(port);
  socket.on('error', () => undefined);
  try {
    const reader = new ReplyReader(socket);
    const { requests, expected, quit } = pageViewPackets(sid);
    for (const [i, request] of requests.entries()) {
      socket.write(request);
      const status = await reader.next();
      if (!expected[i]!.includes(status)) throw new Error(`request ${i} of a page view answered status 0x${status.toString(16)}`);
    }
    // php-memcached sends QUIT and closes without waiting for anything.
    socket.end(quit);
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

interface Counts {
  views: number;
  errors: number;
  firstError?: string;
}

/** `clients` closed loops of page views over their own sessions until `stop` is set. */
async function viewLoops(port: number, clients: number, until: { stop: boolean }, counts: Counts): Promise<void> {
  await Promise.all(Array.from({ length: clients }, async (_, client) => {
    for (let n = 0; !until.stop; n++) {
      try {
        await pageView(port, `bench${client}x${n % SESSIONS_PER_CLIENT}`);
        counts.views++;
      } catch (error) {
        counts.errors++;
        counts.firstError ??= (error as Error).message;
        if (counts.errors > 100) throw new Error(`page views fail: ${counts.firstError}`);
      }
    }
  }));
}

interface Row {
  name: string;
  seconds: number;
  views: number;
  requests: number;
  gatewayCpu: number;
  /** the part of gatewayCpu spent in the kernel */
  gatewaySys: number;
  dbCpu: number;
}

/** CPU seconds of the gateway and the database while `work` runs. */
async function measured(pids: { gateway: number; db: number }, work: () => Promise<{ seconds: number; views: number; requests: number }>,
  name: string): Promise<Row> {
  const before = { gateway: processCpuSeconds(pids.gateway), sys: systemCpuSeconds(pids.gateway), db: processCpuSeconds(pids.db) };
  const result = await work();
  return {
    name,
    ...result,
    gatewayCpu: processCpuSeconds(pids.gateway) - before.gateway,
    gatewaySys: systemCpuSeconds(pids.gateway) - before.sys,
    dbCpu: processCpuSeconds(pids.db) - before.db,
  };
}

async function pageViewRow(port: number, pids: { gateway: number; db: number }, clients: number): Promise<Row> {
  const until = { stop: false };
  const counts: Counts = { views: 0, errors: 0 };
  const loops = viewLoops(port, clients, until, counts);
  try {
    await sleep(WARMUP_SECONDS * 1000);
    return await measured(pids, async () => {
      const start = performance.now();
      const startViews = counts.views;
      await sleep(SECONDS * 1000);
      const views = counts.views - startViews;
      const seconds = (performance.now() - start) / 1000;
      if (counts.errors > 0) throw new Error(`${counts.errors} page views failed: ${counts.firstError}`);
      return { seconds, views, requests: views * REQUESTS_PER_VIEW };
    }, `page views, ${clients} clients`);
  } finally {
    until.stop = true;
    await loops;
  }
}

const MIX_KEYS = 10_000;
const MIX_PREFIX = 'mix:';

async function getSetRow(port: number, pids: { gateway: number; db: number }): Promise<Row> {
  const base = { target: { kind: 'memcache' as const, protocol: 'binary' as const, port }, keyCount: MIX_KEYS, keyPrefix: MIX_PREFIX, valueSize: 1024 };
  await runLoad({ ...base, workload: 'mix', connections: 16, depth: 1, seconds: WARMUP_SECONDS, warmupSeconds: 0 });
  return measured(pids, async () => {
    const result = await runLoad({ ...base, workload: 'mix', mixGetShare: 0.9, connections: 16, depth: 1, seconds: SECONDS, warmupSeconds: 0 });
    if (result.errors > 0) throw new Error(`get/set load failed: ${result.firstError}`);
    return { seconds: result.measuredSeconds, views: 0, requests: result.ops };
  }, 'get/set 90/10, 16 conns, depth 1');
}

function print(row: Row): void {
  const us = (cpu: number, count: number) => (count > 0 ? ((cpu * 1e6) / count).toFixed(1) : '-');
  console.log([
    row.name.padEnd(34),
    (row.views > 0 ? (row.views / row.seconds).toFixed(0) : '-').padStart(8),
    (row.requests / row.seconds).toFixed(0).padStart(8),
    us(row.gatewayCpu, row.requests).padStart(10),
    us(row.gatewayCpu, row.views).padStart(10),
    `${((100 * row.gatewaySys) / row.gatewayCpu).toFixed(0)}%`.padStart(7),
    us(row.dbCpu, row.views || row.requests).padStart(10),
  ].join(' '));
}

async function main(): Promise<void> {
  const logger = benchLogger();
  const log = logLine;
  await withBenchLifecycle({ logger, log }, async (lifecycle) => {
    const { own } = lifecycle;
    const dir = await own('temp dir', await mkdtemp(path.join(os.tmpdir(), 'memgate-page-view-')), (d) => rm(d, { recursive: true, force: true }));
    log('starting MariaDB and memgate …');
    const db = await startBenchMariadb(lifecycle, { dataDir: dir, database: 'bench', logger });
    const dbPid = db.pid;
    if (dbPid === null) throw new Error('cannot find the MariaDB process');
    const gateway = await own('memgate', await startGateway({ dbUrl: db.url, table: 'bench_kv' }), (g) => g.stop());
    const pids = { gateway: gateway.pid, db: dbPid };
    // The get/set row reads keys that exist.
    await runLoad({
      target: { kind: 'memcache', protocol: 'binary', port: gateway.port }, workload: 'fill', connections: 4, depth: 32,
      seconds: 0, warmupSeconds: 0, keyCount: MIX_KEYS, keyPrefix: MIX_PREFIX, valueSize: 1024,
    });
    console.log(`${'row'.padEnd(34)}  views/s    req/s  gw µs/req gw µs/view gw sys db µs/view`);
    console.log(`${''.padEnd(34)}                                                 (db µs/req for get/set)`);
    for (let round = 0; round < ROUNDS && !lifecycle.interrupted; round++) {
      for (const clients of [8, 16]) print(await pageViewRow(gateway.port, pids, clients));
      print(await getSetRow(gateway.port, pids));
    }
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
