// npm run bench:lock-designs — what one PHP session page view (php-memcached: add lock, read
// data, write data, delete lock) costs the database under each session-lock design, measured
// at the SQL level with no gateway: N clients (mysql2 connections, closed loop, 1 KB of data)
// send the page view's statements to one embedded MariaDB with
// innodb_flush_log_at_trx_commit=1. The cells take turns in short slices, in a new random
// order every round, so that a shared machine's drift falls on every design alike.
// BENCH_LOCKS_SECONDS (measured seconds per cell, default 14) shortens a run; BENCH_LOCKS_ROUNDS
// sets the number of slices per cell (default 4). Loopback only; about 4 minutes by default.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseDatabaseUrl } from '../../src/store/db-url.js';
import { schemaStatements } from '../../src/store/schema.js';
import { rowsOf } from '../../src/store/sql/results.js';
import { SqlSession } from '../../src/store/sql-session.js';
import { roundOrders } from '../compare/interleave.js';
import { benchValue } from '../compare/load.js';
import { benchLogger, logLine, withBenchLifecycle } from '../lifecycle.js';
import { startBenchMariadb } from '../mariadb.js';
import { pageViews } from './designs.js';
import { HEARTBEAT_SQL, LOCK_TABLES_DDL } from './lock-sql.js';
import { cellFigures, cellName, estimateSeconds, formatTable, lockOptionsFromEnv, planCells, type SliceResult } from './plan.js';
import { BUSY_RETRY_MS, GROUP_WRITES_IN_FLIGHT, fsyncCounter, runSlice, type SliceContext } from './slice.js';

const TABLE = 'kv';
const GATEWAY_ID = 'bench-gateway';
const VALUE_BYTES = 1024;
const HEARTBEAT_MS = 1000;

async function main(): Promise<void> {
  const options = lockOptionsFromEnv(process.env);
  const logger = benchLogger();
  const log = logLine;
  const cells = planCells();
  await withBenchLifecycle({ logger, log }, async (lifecycle) => {
    const { own } = lifecycle;
    const dir = await own('temp dir', await mkdtemp(path.join(os.tmpdir(), 'memgate-locks-')), (d) => rm(d, { recursive: true, force: true }));
    log('starting MariaDB …');
    const db = await startBenchMariadb(lifecycle, {
      dataDir: dir, database: 'locks', logger, extraServerArgs: ['--innodb-flush-log-at-trx-commit=1'],
    });
    const dbPid = db.pid;
    if (dbPid === null) throw new Error('cannot find the MariaDB process');
    const endpoint = parseDatabaseUrl(db.url);
    const open = () => SqlSession.open({ endpoint, connectTimeoutMs: 10_000, wsrepSyncWait: 0 });
    const admin = await own('admin connection', await open(), (s) => s.destroy());
    for (const statement of [...(await schemaStatements('innodb', TABLE)), ...LOCK_TABLES_DDL]) await admin.query(statement);
    const { version } = db;
    const statusNames = rowsOf<{ Variable_name: string }>(await admin.query("SHOW GLOBAL STATUS LIKE 'Innodb_%fsyncs'"));
    const fsyncs = fsyncCounter(statusNames.map((r) => r.Variable_name));

    // The gateway's heartbeat, on its own connection so it never waits behind the counters.
    const beater = await own('heartbeat connection', await open(), (s) => s.destroy());
    const beat = () => beater.execute(HEARTBEAT_SQL, [GATEWAY_ID]);
    await beat();
    const timer = setInterval(() => void beat().catch((error: unknown) => log(`heartbeat: ${(error as Error).message}`)), HEARTBEAT_MS);
    await own('heartbeat', timer, clearInterval);

    let cas = 1n;
    let connId = 0;
    const ctx: SliceContext = {
      endpoint, admin, dbPid, table: TABLE, views: pageViews(TABLE), gatewayId: GATEWAY_ID, value: benchValue(VALUE_BYTES),
      nextCas: () => cas++, nextConnId: () => ++connId,
    };
    const cpus = os.cpus();
    console.log(`MariaDB ${version} (innodb_flush_log_at_trx_commit=1, data in ${os.tmpdir()}), node ${process.version}, ` +
      `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, Linux ${os.release()}`);
    console.log(`${cells.length} cells × ${options.rounds} slices of ${(options.seconds / options.rounds).toFixed(2)} s ` +
      `(+${options.warmupSeconds} s warm-up each), about ${estimateSeconds(options, cells.length)} s; ` +
      `${VALUE_BYTES} B of session data; log fsyncs from ${fsyncs}; busy lock retried after ${BUSY_RETRY_MS} ms; D merges with ${GROUP_WRITES_IN_FLIGHT} writes in flight`);

    const slices: SliceResult[][] = cells.map(() => []);
    const orders = roundOrders(cells.map((_, i) => i), options.rounds, 42);
    for (const [round, order] of orders.entries()) {
      for (const index of order) {
        if (lifecycle.interrupted) return;
        const slice = await runSlice(ctx, cells[index]!, options.seconds / options.rounds, options.warmupSeconds);
        slices[index]!.push(slice);
        const perSecond = Math.round(slice.samples.length / slice.seconds);
        log(`round ${round + 1}/${options.rounds} ${cellName(cells[index]!).padEnd(14)} ${String(perSecond).padStart(6)} views/s` +
          (slice.errors > 0 ? `, ${slice.errors} errors (${slice.firstError})` : ''));
      }
    }
    const rows = cells.map((cell, i) => ({ cell, figures: cellFigures(slices[i]!) }));
    console.log('');
    console.log(formatTable(rows));
    for (const { cell, figures } of rows) {
      if (figures.rowsPerWrite !== undefined) console.log(`${cellName(cell)}: ${figures.rowsPerWrite.toFixed(2)} page views' data writes per merged commit`);
      if (figures.errors > 0) console.log(`${cellName(cell)}: ${figures.errors} errors, first: ${figures.firstError}`);
    }
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
