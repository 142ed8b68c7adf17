// Starting the session stores, each on 127.0.0.1 on a free port with its own temp dir, owned
// by the run's lifecycle as soon as it exists: one MariaDB (every commit flushed), memgate on
// it, memcached, Redis twice (AOF fsync always / everysec), and PdoSessionHandler's table.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { Logger } from 'winston';
import { parseDatabaseUrl } from '../../src/store/db-url.js';
import { answersLine, freePort, startGateway, startMemcached, startProcess, type ServerProcess } from '../compare/processes.js';
import type { BenchLifecycle } from '../lifecycle.js';
import { startBenchMariadb } from '../mariadb.js';
import type { SessionBenchOptions, StoreName } from './options.js';
import type { PdoEndpoint, StoreEndpoints } from './stores.js';
import { setupPdoTable } from './workers.js';

const HOST = '127.0.0.1';
const DATABASE = 'bench';
const GATEWAY_TABLE = 'memgate_sessions';
const PDO_TABLE = 'pdo_sessions';

export interface SessionServers {
  dbUrl: string;
  dbPid: number | null;
  mariadbVersion: string;
  endpoints: StoreEndpoints;
  /** The process serving each store (PdoSessionHandler: none, MariaDB counts as the database). */
  serverPids: Partial<Record<StoreName, number>>;
  /** The processes whose last output is worth a note at the end. */
  processes: ServerProcess[];
}

/** Whether a Redis server answers PING within timeoutMs. */
export function answersPing(port: number, timeoutMs = 1000): Promise<boolean> {
  return answersLine(port, 'PING\r\n', '+PONG', timeoutMs);
}

/** redis-server with an append-only file synced per `appendfsync`, no RDB snapshots, in `dir`. */
export async function startRedis(fsync: 'always' | 'everysec', dir: string, binary = process.env['REDIS_BIN'] ?? '/usr/bin/redis-server'): Promise<ServerProcess> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const args = [
    '--bind', HOST, '--port', String(port), '--dir', dir, '--daemonize', 'no', '--protected-mode', 'no',
    '--appendonly', 'yes', '--appendfsync', fsync, '--save', '', '--logfile', path.join(dir, 'redis.log'), '--loglevel', 'warning',
  ];
  return startProcess(`redis (${fsync})`, binary, args, port, 15_000, answersPing);
}

/**
 * PdoSessionHandler's connection: the MariaDB URL's user and password, and the same way in as
 * the gateway's (its socket when the URL names one), so neither pays a transport the other skips.
 */
export function pdoEndpoint(dbUrl: string, table: string): PdoEndpoint {
  const { host, port, socketPath, user, password, database } = parseDatabaseUrl(dbUrl);
  const server = socketPath === undefined ? `host=${host};port=${port}` : `unix_socket=${socketPath}`;
  return { dsn: `mysql:${server};dbname=${database}`, user, password, table };
}

export interface StartOptions {
  options: Pick<SessionBenchOptions, 'stores' | 'gatewayArgs'>;
  lifecycle: BenchLifecycle;
  logger: Logger;
  log: (line: string) => void;
}

/** MariaDB always (the header names its version); every other server when a chosen store needs it. */
export async function startServers({ options, lifecycle, logger, log }: StartOptions): Promise<SessionServers> {
  const { own } = lifecycle;
  const wants = (store: StoreName) => options.stores.includes(store);
  const dir = await own('temp dir', await mkdtemp(path.join(os.tmpdir(), 'memgate-sessions-')), (d) => rm(d, { recursive: true, force: true }));
  log('starting MariaDB …');
  const dbDir = path.join(dir, 'mariadb');
  const db = await startBenchMariadb(lifecycle, {
    dataDir: dbDir, database: DATABASE, logger,
    // The embedded default too, but the figures rest on it: every commit is flushed.
    extraServerArgs: ['--innodb-flush-log-at-trx-commit=1'],
  });

  const endpoints: StoreEndpoints = { memcachedPort: null, memgatePort: null, redisAlwaysPort: null, redisEverysecPort: null, pdo: null };
  const serverPids: Partial<Record<StoreName, number>> = {};
  const processes: ServerProcess[] = [];
  const started = async (store: StoreName, what: string, start: () => Promise<ServerProcess>): Promise<number> => {
    log(`starting ${what} …`);
    const server = await own(what, await start(), (s) => s.stop());
    serverPids[store] = server.pid;
    processes.push(server);
    return server.port;
  };
  if (wants('memgate')) {
    endpoints.memgatePort = await started('memgate', 'memgate', () => startGateway({ dbUrl: db.url, table: GATEWAY_TABLE, extraArgs: options.gatewayArgs }));
  }
  if (wants('memcached')) endpoints.memcachedPort = await started('memcached', 'memcached', () => startMemcached());
  if (wants('redis-always')) endpoints.redisAlwaysPort = await started('redis-always', 'redis (appendfsync always)', () => startRedis('always', path.join(dir, 'redis-always')));
  if (wants('redis-everysec')) endpoints.redisEverysecPort = await started('redis-everysec', 'redis (appendfsync everysec)', () => startRedis('everysec', path.join(dir, 'redis-everysec')));
  if (wants('pdo')) {
    log('creating PdoSessionHandler\'s table …');
    endpoints.pdo = pdoEndpoint(db.url, PDO_TABLE);
    await setupPdoTable(endpoints.pdo);
  }
  return { dbUrl: db.url, dbPid: db.pid, mariadbVersion: db.version, endpoints, serverPids, processes };
}
