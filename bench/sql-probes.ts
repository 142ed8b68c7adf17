// npm run bench:sql — the database's side of memgate's statements next to raw SQL's, on one
// embedded MariaDB with no gateway in between (about a minute, loopback only):
//  1. A merged read (memgate's SELECT … IN of 32 keys): the database's CPU per statement as
//     memgate sends it (primary key forced) and without the index hint, alternated so that
//     drift hits both alike.
//  2. One statement at a time per form, the forms taking turns in a new random order every round
//     (one connection each), so that a shared machine's drift, and the slowness of whatever
//     runs right after a commit, hit every form alike: raw SQL's get and upsert, memgate's read
//     of one key, its one-row upsert, and that upsert without the read of the pending delayed
//     flush_all deadline. Every upsert is a durable commit.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import winston from 'winston';
import { layoutFor } from '../src/embedded/layout.js';
import { startEmbeddedMariadb } from '../src/embedded/mariadb.js';
import { expiryParams } from '../src/model/item-rules.js';
import { PENDING_FLUSH_VAR, pendingFlushSet } from '../src/store/sql/expiry.js';
import { selectItemsSql } from '../src/store/sql/read-items.js';
import { setManySql } from '../src/store/sql/set-many.js';
import { schemaStatements } from '../src/store/schema.js';
import { shuffle } from './compare/interleave.js';
import { benchKeys, benchValue, random } from './compare/load.js';
import { freePort, pidFromFile, processCpuSeconds } from './compare/processes.js';
import { rawStatements } from './compare/raw-sql.js';
import { summarize } from './compare/stats.js';

const TABLE = 'kv';
const KEYS = 10_000;
const READ_KEYS = 32;
const ROUNDS = Number(process.env.BENCH_SQL_ROUNDS ?? 4);
const READ_SECONDS = Number(process.env.BENCH_SQL_READ_SECONDS ?? 2);
const LATENCY_SECONDS = Number(process.env.BENCH_SQL_LATENCY_SECONDS ?? 8);

/** The SQL with every occurrence of `piece` replaced; fails loudly if the store's SQL changed. */
function without(sql: string, piece: string, replacement: string): string {
  if (!sql.includes(piece)) throw new Error(`the upsert no longer contains ${piece}; update bench/sql-probes.ts`);
  return sql.split(piece).join(replacement);
}

async function main(): Promise<void> {
  const logger = winston.createLogger({ level: 'warn', transports: [new winston.transports.Console()] });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-sql-probes-'));
  const db = await startEmbeddedMariadb({ dataDir: dir, port: await freePort(), database: 'probes', logger });
  const opened: mysql.Connection[] = [];
  const connect = async (...setup: string[]) => {
    const c = await mysql.createConnection({ uri: db.url, supportBigNumbers: true, bigNumberStrings: true });
    opened.push(c);
    for (const statement of setup) await c.query(statement);
    return c;
  };
  try {
    const dbPid = pidFromFile(layoutFor(dir).pidFile);
    if (dbPid === null) throw new Error('cannot find the MariaDB process');
    const keys = benchKeys(KEYS, 'bench:');
    const value = benchValue(1024);
    const admin = await connect();
    for (const statement of await schemaStatements('innodb', TABLE)) await admin.query(statement);
    for (let i = 0; i < KEYS; i += 500) {
      const rows = keys.slice(i, i + 500).map((key, j) => [key, value, 0, i + j + 1, 0]);
      await admin.query(`INSERT INTO \`${TABLE}\` (mkey, string_value, flags, cas_value, expiry) VALUES ?`, [rows]);
    }
    const [version] = await admin.query('SELECT VERSION() AS v');
    console.log(`MariaDB ${(version as Array<{ v: string }>)[0]!.v}, ${os.cpus().length} CPUs, ${KEYS} keys of 1 KB`);

    console.log(`\n1. merged read of ${READ_KEYS} keys, one connection, ${READ_SECONDS} s per row: the database's CPU`);
    const readSql = selectItemsSql(TABLE, READ_KEYS);
    const reads = [
      { name: 'as memgate sends it', sql: readSql },
      { name: 'without FORCE INDEX', sql: without(readSql, ' FORCE INDEX (PRIMARY)', '') },
    ];
    const pick = random(7);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const read of reads) {
        const c = await connect();
        const cpuBefore = processCpuSeconds(dbPid);
        const started = performance.now();
        let statements = 0;
        while (performance.now() - started < READ_SECONDS * 1000) {
          const batch = Array.from({ length: READ_KEYS }, () => keys[Math.floor(pick() * KEYS)]!);
          await c.execute(read.sql, batch);
          statements++;
        }
        const seconds = (performance.now() - started) / 1000;
        const cpuUs = ((processCpuSeconds(dbPid) - cpuBefore) * 1e6) / statements;
        console.log(`  round ${round}, ${read.name.padEnd(19)}: ${Math.round(statements / seconds)} statements/s, ` +
          `database CPU ${cpuUs.toFixed(0)} µs per statement (${(cpuUs / READ_KEYS).toFixed(1)} µs per key)`);
        await c.end();
        opened.splice(opened.indexOf(c), 1);
      }
    }

    const raw = rawStatements(TABLE);
    const upsert = setManySql(TABLE, 1);
    const upsertWithoutFlushRead = without(without(upsert, pendingFlushSet(TABLE), '(NULL)'), PENDING_FLUSH_VAR, 'NULL');
    let cas = KEYS + 1;
    const memgateSetParams = (key: string) => [key, value, 0, String(cas++), 0, ...expiryParams(0)];
    const forms: Array<{ name: string; sql: string; params: (key: string) => unknown[] }> = [
      { name: 'raw SQL get', sql: raw.get, params: (key) => [key] },
      { name: 'memgate get', sql: selectItemsSql(TABLE, 1), params: (key) => [key] },
      { name: 'raw SQL upsert', sql: raw.set, params: (key) => [key, value, 0, cas++, 0] },
      { name: 'memgate upsert', sql: upsert, params: memgateSetParams },
      { name: 'memgate upsert, no flush read', sql: upsertWithoutFlushRead, params: memgateSetParams },
    ];
    console.log(`\n2. one statement at a time, the ${forms.length} forms taking turns in random order for ${LATENCY_SECONDS} s (one connection each): latency`);
    const connections = await Promise.all(forms.map(() => connect('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED')));
    const latencies = forms.map(() => [] as number[]);
    const order = random(11);
    const started = performance.now();
    const turn = forms.map((_, i) => i);
    while (performance.now() - started < LATENCY_SECONDS * 1000) {
      // A new order every round: a statement right after a commit is slower, whatever it is.
      for (const i of shuffle(turn, order)) {
        const params = forms[i]!.params(keys[Math.floor(order() * KEYS)]!);
        const at = performance.now();
        await connections[i]!.execute(forms[i]!.sql, params as mysql.ExecuteValues);
        latencies[i]!.push(performance.now() - at);
      }
    }
    const p50 = latencies.map((l) => summarize(l).p50);
    for (const [i, form] of forms.entries()) {
      const summary = summarize(latencies[i]!);
      const baseline = form.name.includes('get') ? p50[0]! : p50[2]!;
      const extra = form.name.startsWith('raw') ? '' : `  (${p50[i]! - baseline >= 0 ? '+' : ''}${(p50[i]! - baseline).toFixed(3)} ms over raw SQL)`;
      console.log(`  ${form.name.padEnd(30)} p50 ${summary.p50.toFixed(3)} ms  p99 ${summary.p99.toFixed(3)} ms${extra}`);
    }
  } finally {
    for (const c of opened) await c.end().catch(() => undefined);
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
