import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import winston, { type Logger } from 'winston';
import { startEmbeddedMariadb, type EmbeddedMariadb } from '../../src/embedded/mariadb.js';

const TEST_DIR_PREFIX = 'memgate-test-';

/** Silent unless MEMGATE_TEST_LOG_LEVEL is set, so test output stays readable. */
export function testLogger(): Logger {
  const level = process.env.MEMGATE_TEST_LOG_LEVEL;
  return winston.createLogger({
    level: level ?? 'info',
    transports: [new winston.transports.Console({ silent: level === undefined, stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}

/** A logger that keeps every line (JSON) in memory, for tests that check what is logged. */
export function captureLog(): { logger: Logger; text(): string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  const logger = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
  return { logger, text: () => lines.join('') };
}

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Killed test runs leave a datadir behind (their server is stopped by the
 * embedded module's watchdog, but nobody deletes the files); each is 100+ MB.
 */
async function removeAbandonedTestDirs(): Promise<void> {
  const entries = await readdir(os.tmpdir()).catch(() => [] as string[]);
  await Promise.all(
    entries.map(async (name) => {
      if (!name.startsWith(TEST_DIR_PREFIX)) return;
      const pid = Number(name.slice(TEST_DIR_PREFIX.length));
      if (!Number.isInteger(pid) || pid === process.pid || pidIsAlive(pid)) return;
      await rm(path.join(os.tmpdir(), name), { recursive: true, force: true });
    }),
  );
}

interface TestDatabase {
  url: string;
  server?: EmbeddedMariadb;
  dir?: string;
}

let testDatabase: Promise<TestDatabase> | undefined;

async function startTestDatabase(): Promise<TestDatabase> {
  const external = process.env.MEMGATE_TEST_DB_URL;
  if (external) return { url: external };
  await removeAbandonedTestDirs();
  // A fresh datadir per run: initialising takes about a second, and no state leaks between runs.
  const dir = path.join(os.tmpdir(), `${TEST_DIR_PREFIX}${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  try {
    const server = await startEmbeddedMariadb({
      dataDir: dir,
      port: await findFreePort(),
      database: 'memgate_test',
      logger: testLogger(),
    });
    return { url: server.url, server, dir };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** MEMGATE_TEST_DB_URL, or one embedded MariaDB shared by the whole test run. */
export function getTestDatabaseUrl(): Promise<string> {
  // A failed start stays cached: every later test fails at once with the same error instead of waiting again.
  testDatabase ??= startTestDatabase();
  return testDatabase.then((db) => db.url);
}

/** Called by the mocha root hook; safe when nothing was started. */
export async function stopTestDatabase(): Promise<void> {
  const pending = testDatabase;
  testDatabase = undefined;
  if (!pending) return;
  const db = await pending.catch(() => undefined);
  if (!db?.server) return;
  await db.server.stop();
  if (db.dir) await rm(db.dir, { recursive: true, force: true });
}

let tableCounter = 0;
// Distinguishes runs that reuse a pid against the same external database.
const runId = randomBytes(3).toString('hex');

/** A table name no other test (in this run or a concurrent one) uses. */
export function freshTableName(prefix = 't'): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,30}$/.test(prefix)) throw new Error(`invalid table name prefix ${JSON.stringify(prefix)}`);
  tableCounter += 1;
  return `${prefix}_${process.pid}_${runId}_${tableCounter}`;
}

/** Prepared statements the whole server has executed so far (tests run one at a time). */
export async function statementsExecuted(db: { query(sql: string): Promise<[unknown, unknown]> }): Promise<number> {
  const [rows] = await db.query("SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'");
  return Number((rows as Array<{ Value: string }>)[0]!.Value);
}
