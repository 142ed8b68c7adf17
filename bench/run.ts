// npm run bench: bounded, loopback only, everything started and stopped here. First the
// comparison of bench/compare (memgate text and binary vs raw mysql2 vs memcached, and 5,000
// connections), then the expiry sweeper's rows/s and the load's figures before and during a sweep,
// then get and set with metrics on and off (bench/metrics-overhead.ts).
import { mkdtemp, rm } from 'node:fs/promises';
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
import { runLoadHere, type LoadResult, type LoadSpec } from './compare/load.js';
import { freePort } from './compare/processes.js';
import { optionsFromEnv } from './compare/options.js';
import { runComparison } from './compare/run.js';
import { runHostile } from './hostile.js';
import { benchLogger, logLine, withBenchLifecycle } from './lifecycle.js';
import { metricsOverhead } from './metrics-overhead.js';
import { seedRows } from './seed.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const VALUE_BYTES = 1000;
const KEYS = 1000;
const KEY_PREFIX = 'bench:';
/** BENCH_SWEEP_ROWS=100000 for a quick run; 0 skips the sweep benchmark */
const SWEEP_ROWS = Number(process.env.BENCH_SWEEP_ROWS ?? 1_000_000);
const SWEEP_VALUE_BYTES = 200;
const SWEEP_CONNECTIONS = 16;

/** The sweep benchmark's load: closed loop, one request in flight per connection, text protocol. */
function loadSpec(port: number, connections: number, workload: 'set' | 'alternate'): LoadSpec {
  return {
    target: { kind: 'memcache', protocol: 'text', port },
    workload,
    keyOrder: 'stride',
    connections,
    depth: 1,
    seconds: SECONDS,
    warmupSeconds: 0,
    keyCount: KEYS,
    keyPrefix: KEY_PREFIX,
    valueSize: VALUE_BYTES,
  };
}

/** Runs the load on this process's loop, beside the gateway, as its clients; fails on any error reply. */
async function load(spec: LoadSpec, signal?: AbortSignal): Promise<LoadResult> {
  const result = await runLoadHere(spec, { signal });
  if (result.errors > 0) throw new Error(`${result.errors} requests failed, the first: ${result.firstError}`);
  return result;
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
    const before = await load(loadSpec(port, SWEEP_CONNECTIONS, 'alternate'));
    const sweeping = new AbortController();
    const during = load({ ...loadSpec(port, SWEEP_CONNECTIONS, 'alternate'), seconds: Number.POSITIVE_INFINITY }, sweeping.signal);
    const outcome = await withDatabase(config, logger, config.db.statementTimeoutMs, (pool) =>
      new ExpirySweeper(pool, table, logger).pass(settings)).finally(() => sweeping.abort());
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
      console.log(`${name.padEnd(12)}  ${r.opsPerSecond.toFixed(0).padStart(7)}  ${r.p50Ms.toFixed(3).padStart(7)}  ${r.p99Ms.toFixed(3).padStart(7)}`);
    }
    console.log(`p99 during / before: ${(loaded.p99Ms / before.p99Ms).toFixed(2)}`);
  } finally {
    await connection.end();
  }
}

async function main(): Promise<void> {
  // The comparison first (memgate vs raw SQL vs memcached, connection scale), then hostile
  // clients (against a gateway with an idle timeout: BENCH_HOSTILE_IDLE_TIMEOUT seconds, 0 for
  // none), the sweeper under load, then metrics on and off. BENCH_COMPARE=0, BENCH_HOSTILE=0,
  // BENCH_SWEEP_ROWS=0 or BENCH_METRICS=0 skips one of them.
  if (process.env.BENCH_COMPARE !== '0') await runComparison(optionsFromEnv());
  if (process.env.BENCH_HOSTILE !== '0') {
    const idleTimeout = Number(process.env.BENCH_HOSTILE_IDLE_TIMEOUT ?? 3);
    await runHostile({ seconds: Number(process.env.BENCH_HOSTILE_SECONDS ?? 5), idleTimeoutSeconds: idleTimeout > 0 ? idleTimeout : undefined });
  }
  if (SWEEP_ROWS === 0 && process.env.BENCH_METRICS === '0') return;
  const logger = benchLogger();
  const log = logLine;
  await withBenchLifecycle({ logger, log }, async ({ own }) => {
    const dir = await own('temp dir', await mkdtemp(path.join(os.tmpdir(), 'memgate-bench-')), (d) => rm(d, { recursive: true, force: true }));
    const db = await own('MariaDB', await startEmbeddedMariadb({ dataDir: dir, port: await freePort(), database: 'bench', logger }), (d) => d.stop());
    // MEMGATE_SWEEP_* in the environment try other sweeper settings; nothing else is taken from it.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('MEMGATE_SWEEP_')));
    const config = loadConfig({ env, overrides: { listen: { port: 0 }, db: { url: db.url }, log: { level: 'warn' } } });
    if (SWEEP_ROWS > 0) {
      const app = await own('gateway', await startApp(config, logger), (a) => a.stop());
      const { port } = app.address();
      await load(loadSpec(port, 4, 'set')); // fill the keys the gets read
      console.log('');
      await sweepBench(port, config, logger);
      await app.stop();
    }
    if (process.env.BENCH_METRICS !== '0') {
      await metricsOverhead({ dbUrl: db.url, seconds: SECONDS, warmupSeconds: 0.5, log }, { own });
    }
  });
}
main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
