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

/** Whether a Redis server (on a 127.0.0.1 port, or a unix socket's path) answers PING within timeoutMs. */
export function answersPing(at: number | string, timeoutMs = 1000): Promise<boolean> {
  return answersLine(at, 'PING\r\n', '+PONG', timeoutMs);
}

/**
 * redis-server with an append-only file synced per `appendfsync`, no RDB snapshots, in `dir`;
 * with `socketPath`, also on that unix socket.
 */
export async function startRedis(
  fsync: 'always' | 'everysec', dir: string, socketPath?: string, binary = process.env['REDIS_BIN'] ?? '/usr/bin/redis-server',
): Promise<ServerProcess> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const args = [
    '--bind', HOST, '--port', String(port), '--dir', dir, '--daemonize', 'no', '--protected-mode', 'no',
    '--appendonly', 'yes', '--appendfsync', fsync, '--save', '', '--logfile', path.join(dir, 'redis.log'), '--loglevel', 'warning',
    ...(socketPath === undefined ? [] : ['--unixsocket', socketPath, '--unixsocketperm', '700']),
  ];
  const ready = async (_port: number, timeoutMs: number) =>
    (await answersPing(port, timeoutMs)) && (socketPath === undefined || answersPing(socketPath, timeoutMs));
  return startProcess(`redis (${fsync})`, binary, args, port, 15_000, ready);
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
  options: Pick<SessionBenchOptions, 'stores' | 'gatewayArgs' | 'transport'>;
  lifecycle: BenchLifecycle;
  logger: Logger;
  log: (line: string) => void;
}

/** The database URL without its socket: over TCP to its port. */
function overTcp(dbUrl: string): string {
  const url = new URL(dbUrl);
  url.searchParams.delete('socketPath');
  return url.toString();
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
  const unix = options.transport === 'unix';
  // The URL of the embedded server names its socket; over TCP, memgate and PDO use its port.
  const dbUrl = unix ? db.url : overTcp(db.url);
  /** Where a store listens for PHP: its own socket, or the TCP port it was started on. */
  const socketOf = (store: StoreName) => (unix ? path.join(dir, `${store}.sock`) : undefined);
  const addressOf = (store: StoreName, server: ServerProcess) => socketOf(store) ?? `${HOST}:${server.port}`;

  const endpoints: StoreEndpoints = { memcached: null, memgate: null, redisAlways: null, redisEverysec: null, pdo: null };
  const serverPids: Partial<Record<StoreName, number>> = {};
  const processes: ServerProcess[] = [];
  const started = async (store: StoreName, what: string, start: () => Promise<ServerProcess>): Promise<string> => {
    log(`starting ${what} …`);
    const server = await own(what, await start(), (s) => s.stop());
    serverPids[store] = server.pid;
    processes.push(server);
    return addressOf(store, server);
  };
  if (wants('memgate')) {
    const socket = socketOf('memgate');
    const extraArgs = [...(socket === undefined ? [] : ['--socket', socket]), ...options.gatewayArgs];
    endpoints.memgate = await started('memgate', 'memgate', () => startGateway({ dbUrl, table: GATEWAY_TABLE, extraArgs }));
  }
  if (wants('memcached')) endpoints.memcached = await started('memcached', 'memcached', () => startMemcached(undefined, socketOf('memcached')));
  if (wants('redis-always')) {
    endpoints.redisAlways = await started('redis-always', 'redis (appendfsync always)', () =>
      startRedis('always', path.join(dir, 'redis-always'), socketOf('redis-always')));
  }
  if (wants('redis-everysec')) {
    endpoints.redisEverysec = await started('redis-everysec', 'redis (appendfsync everysec)', () =>
      startRedis('everysec', path.join(dir, 'redis-everysec'), socketOf('redis-everysec')));
  }
  if (wants('pdo')) {
    log('creating PdoSessionHandler\'s table …');
    endpoints.pdo = pdoEndpoint(dbUrl, PDO_TABLE);
    await setupPdoTable(endpoints.pdo);
  }
  return { dbUrl, dbPid: db.pid, mariadbVersion: db.version, endpoints, serverPids, processes };
}
