// npm run bench: bounded, loopback only, everything started and stopped here. First the
// comparison of bench/compare (memgate text and binary vs raw mysql2 vs memcached, and 5,000
// connections), then the expiry sweeper's rows/s and the load's figures before and during a sweep.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import winston from 'winston';
import { startApp } from '../src/app.js';
import { withDatabase } from '../src/cli/with-database.js';
import { loadConfig } from '../src/config/load-config.js';
import type { GatewayConfig } from '../src/config/schema.js';
import { startEmbeddedMariadb } from '../src/embedded/mariadb.js';
import { ExpirySweeper, sweepSettings } from '../src/sweeper/expiry-sweeper.js';
import { optionsFromEnv, runComparison } from './compare/run.js';
import { seedRows } from './seed.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const VALUE = 'x'.repeat(1000);
const KEYS = 1000;
/** BENCH_SWEEP_ROWS=100000 for a quick run; 0 skips the sweep benchmark */
const SWEEP_ROWS = Number(process.env.BENCH_SWEEP_ROWS ?? 1_000_000);
const SWEEP_VALUE_BYTES = 200;
const SWEEP_CONNECTIONS = 16;

interface Result { ops: number; p50: number; p99: number }

type Op = 'get' | 'set' | 'get/set';

/**
 * Closed-loop clients: each sends one request, waits for its reply, repeats until `done()`
 * (by default after BENCH_SECONDS). 'get/set' alternates the two on every connection.
 */
async function load(port: number, connections: number, op: Op, done?: () => boolean): Promise<Result> {
  const latencies: number[] = [];
  const started = Date.now();
  const end = started + SECONDS * 1000;
  const over = done ?? (() => Date.now() >= end);
  const client = (id: number) => new Promise<void>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let n = 0;
    let sent = 0n;
    let pending = '';
    let terminator = '';
    const send = () => {
      if (over()) {
        socket.destroy();
        resolve();
        return;
      }
      const key = `bench:${(id * 7919 + n) % KEYS}`;
      const set = op === 'set' || (op === 'get/set' && n % 2 === 1);
      n += 1;
      terminator = set ? '\r\n' : 'END\r\n';
      sent = process.hrtime.bigint();
      socket.write(set ? `set ${key} 0 0 ${VALUE.length}\r\n${VALUE}\r\n` : `get ${key}\r\n`);
    };
    socket.on('connect', send);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      if (!pending.endsWith(terminator)) return;
      if (pending.startsWith('SERVER_ERROR')) return reject(new Error(pending.trim()));
      pending = '';
      latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
      send();
    });
  });
  await Promise.all(Array.from({ length: connections }, (_, i) => client(i)));
  const seconds = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!;
  return { ops: latencies.length / seconds, p50: at(0.5), p99: at(0.99) };
}

/**
 * The expiry sweeper under load: BENCH_SWEEP_ROWS expired rows (default 1,000,000) are
 * seeded beside the live keys, then the get/set load runs once alone and once while a sweep
 * pass with the default settings deletes them through its own connection, as a cron job would.
 */
async function sweepBench(port: number, config: GatewayConfig, logger: winston.Logger): Promise<void> {
  const table = config.db.table;
  const connection = await mysql.createConnection(config.db.url);
  const count = async (where: string) => {
    const [rows] = await connection.query(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE ${where}`);
    return Number((rows as Array<{ n: number | string }>)[0]!.n);
  };
  try {
    const seedStarted = Date.now();
    await seedRows((text, params) => connection.query(text, params), table, {
      prefix: 'expired:', count: SWEEP_ROWS, valueBytes: SWEEP_VALUE_BYTES, expirySql: 'UNIX_TIMESTAMP() - 1 - n MOD 86400',
    });
    const seeded = (Date.now() - seedStarted) / 1000;
    const settings = sweepSettings(config);
    console.log('');
    console.log(`expiry sweep: ${SWEEP_ROWS} expired rows of ${SWEEP_VALUE_BYTES} bytes (seeded in ${seeded.toFixed(1)} s) beside ${KEYS} live keys;`);
    console.log(`sweeper defaults (batch ${settings.batchSize}, pause ${settings.pauseMs} ms) on its own connection; load: ${SWEEP_CONNECTIONS} conns alternating get and set`);
    const before = await load(port, SWEEP_CONNECTIONS, 'get/set');
    let sweeping = true;
    const during = load(port, SWEEP_CONNECTIONS, 'get/set', () => !sweeping);
    const outcome = await withDatabase(config, logger, config.db.statementTimeoutMs, (pool) =>
      new ExpirySweeper(pool, table, logger).pass(settings)).finally(() => {
      sweeping = false;
    });
    const loaded = await during;
    if (outcome.kind !== 'swept') throw new Error('the sweep found its lease taken');
    const { rows, batches, elapsedMs } = outcome.result;
    const [left, live] = [await count('expiry <> 0'), await count('expiry = 0')];
    if (rows !== SWEEP_ROWS || left !== 0 || live !== KEYS) {
      throw new Error(`sweep deleted ${rows} of ${SWEEP_ROWS}; ${left} expired and ${live} of ${KEYS} live rows left`);
    }
    console.log(`sweep: deleted ${rows} rows in ${batches} batches in ${(elapsedMs / 1000).toFixed(1)} s: ${Math.round(rows / (elapsedMs / 1000))} rows/s`);
    console.log('load           ops/s   p50 ms   p99 ms');
    for (const [name, r] of [['before sweep', before], ['during sweep', loaded]] as const) {
      console.log(`${name.padEnd(12)}  ${r.ops.toFixed(0).padStart(7)}  ${r.p50.toFixed(3).padStart(7)}  ${r.p99.toFixed(3).padStart(7)}`);
    }
    console.log(`p99 during / before: ${(loaded.p99 / before.p99).toFixed(2)}`);
  } finally {
    await connection.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function main(): Promise<void> {
  // Issue 6's comparison first (memgate vs raw SQL vs memcached, connection scale), then the
  // sweeper under load. BENCH_COMPARE=0 or BENCH_SWEEP_ROWS=0 skips one of them.
  if (process.env.BENCH_COMPARE !== '0') await runComparison(optionsFromEnv());
  if (SWEEP_ROWS === 0) return;
  const logger = winston.createLogger({ level: 'warn', transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })] });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-bench-'));
  const db = await startEmbeddedMariadb({ dataDir: dir, port: await freePort(), database: 'bench', logger });
  // MEMGATE_SWEEP_* in the environment try other sweeper settings; nothing else is taken from it.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('MEMGATE_SWEEP_')));
  const config = loadConfig({ env, overrides: { listen: { port: 0 }, db: { url: db.url }, log: { level: 'warn' } } });
  const app = await startApp(config, logger);
  try {
    const { port } = app.address();
    await load(port, 4, 'set'); // fill the keys the gets read
    console.log('');
    await sweepBench(port, config, logger);
  } finally {
    await app.stop();
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
