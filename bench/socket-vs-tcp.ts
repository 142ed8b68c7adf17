// node dist/bench/socket-vs-tcp.js (after npm run build) — a PHP session page view through one memgate over its unix socket
// against TCP loopback (about 1 minute). One embedded MariaDB and one `memgate serve` child
// process listening on both; PHP processes (bench/sessions/php/worker.php) loop page views
// (session_start, n++, 1 KB blob, session_write_close: php-memcached connects, ADD lock, GET,
// SET, DELETE lock, QUIT; pecl memcache likewise in ASCII), each on its own sessions. Cells of
// the two transports alternate, so that drift of the machine hits both alike; the p50 and p99
// of each are over all its cells' views, and the gateway's CPU per view (user + system, from
// /proc) over all its cells.
//
// First, the transport alone: `version` round trips (no database) on one connection, and new
// connections, over each.
//
// BENCH_SECONDS (default 5) per cell after BENCH_WARMUP_SECONDS (1); BENCH_ROUNDS (3) pairs of
// cells per handler; BENCH_PHP_PROCESSES (1) concurrent PHP processes per cell.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { summarize } from './compare/stats.js';
import { processCpuSeconds, startGateway } from './compare/processes.js';
import { benchLogger, logLine, withBenchLifecycle } from './lifecycle.js';
import { startBenchMariadb } from './mariadb.js';
import { COMMON_SETTINGS, type StoreAccess } from './sessions/stores.js';
import { runViews } from './sessions/workers.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 1);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const PROCESSES = Number(process.env['BENCH_PHP_PROCESSES'] ?? 1);
const SESSIONS_PER_PROCESS = 20;

type Transport = 'tcp' | 'socket';

const ROUND_TRIPS = 5000;
const CONNECTS = 1000;

/** Resolves with the socket once connected. */
function connect(where: net.NetConnectOpts): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(where);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Sends `version` and waits for its one-line reply; no database is involved. */
function versionRoundTrip(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    let reply = '';
    const onData = (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (!reply.endsWith('\r\n')) return;
      socket.off('data', onData);
      if (reply.startsWith('VERSION ')) resolve();
      else reject(new Error(`unexpected reply ${JSON.stringify(reply)}`));
    };
    socket.on('data', onData);
    socket.write('version\r\n');
  });
}

/**
 * The transport alone: µs per `version` round trip on one connection, and per new connection
 * with one round trip and a close (a page view opens one and makes four requests).
 */
async function transportCost(where: net.NetConnectOpts): Promise<{ roundTrip: number[]; connect: number[] }> {
  const roundTrip: number[] = [];
  const socket = await connect(where);
  socket.setNoDelay(true);
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const t0 = performance.now();
    await versionRoundTrip(socket);
    roundTrip.push((performance.now() - t0) * 1000);
  }
  socket.destroy();
  const connects: number[] = [];
  for (let i = 0; i < CONNECTS; i++) {
    const t0 = performance.now();
    const fresh = await connect(where);
    await versionRoundTrip(fresh);
    fresh.end();
    connects.push((performance.now() - t0) * 1000);
  }
  return { roundTrip, connect: connects };
}

/** session.save_path of each handler for each transport, in the syntax each extension takes. */
const HANDLERS: Record<string, (transport: Transport, port: number, socket: string) => Record<string, string>> = {
  'php-memcached': (transport, port, socket) => ({
    'session.save_handler': 'memcached',
    'session.save_path': transport === 'tcp' ? `127.0.0.1:${port}` : socket,
  }),
  'pecl memcache': (transport, port, socket) => ({
    'session.save_handler': 'memcache',
    'session.save_path': transport === 'tcp' ? `tcp://127.0.0.1:${port}` : `unix://${socket}`,
    'memcache.session_redundancy': '1',
  }),
};

async function main(): Promise<void> {
  const logger = benchLogger();
  const log = logLine;
  await withBenchLifecycle({ logger, log }, async (lifecycle) => {
    const { own } = lifecycle;
    const dir = await own('temp dir', await mkdtemp(path.join(os.tmpdir(), 'memgate-socket-bench-')), (d) => rm(d, { recursive: true, force: true }));
    const socket = path.join(dir, 'memgate.sock');
    log('starting MariaDB and memgate …');
    const db = await startBenchMariadb(lifecycle, { dataDir: path.join(dir, 'db'), database: 'bench', logger });
    const gateway = await own('memgate', await startGateway({
      dbUrl: db.url, table: 'bench_kv', extraArgs: ['--socket', socket, '--socket-mode', '700'],
    }), (g) => g.stop());
    console.log(`MariaDB ${db.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)} at start`);
    await transportRows(gateway.port, socket);
    console.log(`PHP page views, ${PROCESSES} PHP process(es), ${ROUNDS} × ${SECONDS} s per transport and handler`);
    console.log(`${'handler'.padEnd(15)} ${'transport'.padEnd(10)} ${'views'.padStart(7)} ${'views/s'.padStart(8)} ${'p50 µs'.padStart(8)} ${'p99 µs'.padStart(8)} ${'gw µs/view'.padStart(12)}`);
    let cell = 0;
    for (const [name, settingsFor] of Object.entries(HANDLERS)) {
      const latencies: Record<Transport, number[]> = { tcp: [], socket: [] };
      const seconds: Record<Transport, number> = { tcp: 0, socket: 0 };
      /** the gateway's CPU seconds and the views of the whole cells (warm-up included) */
      const cpu: Record<Transport, { seconds: number; views: number }> = { tcp: { seconds: 0, views: 0 }, socket: { seconds: 0, views: 0 } };
      for (let round = 0; round < ROUNDS && !lifecycle.interrupted; round++) {
        // Which transport goes first alternates too.
        const order: Transport[] = round % 2 === 0 ? ['tcp', 'socket'] : ['socket', 'tcp'];
        for (const transport of order) {
          const access: StoreAccess = { settings: { ...COMMON_SETTINGS, ...settingsFor(transport, gateway.port, socket) }, handler: 'native' };
          const ids = Array.from({ length: PROCESSES }, (_, p) =>
            Array.from({ length: SESSIONS_PER_PROCESS }, (_, s) => `sock${cell}x${p}x${s}`.padEnd(32, '0')));
          cell++;
          // PHP's start-up is not timed: views begin after the warm-up.
          const startAtMs = Date.now() + 500 + WARMUP_SECONDS * 1000;
          const cpuBefore = processCpuSeconds(gateway.pid);
          const runs = await runViews(access, ids, { startAtMs, endAtMs: startAtMs + SECONDS * 1000 });
          cpu[transport].seconds += processCpuSeconds(gateway.pid) - cpuBefore;
          for (const run of runs) {
            if (!run.output) throw new Error(`${name} over ${transport}: ${run.problem}`);
            if (run.output.failures > 0) throw new Error(`${name} over ${transport}: ${JSON.stringify(run.output.failureMessages)}`);
            latencies[transport].push(...run.output.latenciesUs);
            cpu[transport].views += run.output.allViews;
          }
          seconds[transport] += SECONDS;
        }
      }
      for (const transport of ['tcp', 'socket'] as const) {
        const summary = summarize(latencies[transport]);
        console.log([
          name.padEnd(15), transport.padEnd(10), String(summary.count).padStart(7),
          (summary.count / seconds[transport]).toFixed(0).padStart(8), summary.p50.toFixed(0).padStart(8), summary.p99.toFixed(0).padStart(8),
          ((cpu[transport].seconds * 1e6) / cpu[transport].views).toFixed(0).padStart(12),
        ].join(' '));
      }
    }
  });
}

/** The `version` round trip and connect rows, the transports taking turns over ROUNDS rounds. */
async function transportRows(port: number, socket: string): Promise<void> {
  const where: Record<Transport, net.NetConnectOpts> = { tcp: { host: '127.0.0.1', port }, socket: { path: socket } };
  const samples: Record<Transport, { roundTrip: number[]; connect: number[] }> = { tcp: { roundTrip: [], connect: [] }, socket: { roundTrip: [], connect: [] } };
  for (let round = 0; round < ROUNDS; round++) {
    const order: Transport[] = round % 2 === 0 ? ['tcp', 'socket'] : ['socket', 'tcp'];
    for (const transport of order) {
      const { roundTrip, connect: connects } = await transportCost(where[transport]);
      samples[transport].roundTrip.push(...roundTrip);
      samples[transport].connect.push(...connects);
    }
  }
  console.log(`${'transport alone (no database)'.padEnd(30)} ${'version p50 µs'.padStart(15)} ${'p99'.padStart(6)} ${'connect+version+close p50 µs'.padStart(29)} ${'p99'.padStart(6)}`);
  for (const transport of ['tcp', 'socket'] as const) {
    const rt = summarize(samples[transport].roundTrip);
    const conn = summarize(samples[transport].connect);
    console.log(`${transport.padEnd(30)} ${rt.p50.toFixed(0).padStart(15)} ${rt.p99.toFixed(0).padStart(6)} ${conn.p50.toFixed(0).padStart(29)} ${conn.p99.toFixed(0).padStart(6)}`);
  }
  console.log('');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
