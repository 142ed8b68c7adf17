import type { Logger } from 'winston';
import { readPasswordFile } from './auth/password-file.js';
import { PlainAuthenticator } from './auth/plain-authenticator.js';
import cluster from 'node:cluster';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { SessionLockService, SharedContext } from './commands/handler.js';
import { sessionKeys, type SessionKeys } from './commands/lock-keys.js';
import { requestRunner } from './commands/request-runner.js';
import type { GatewayConfig } from './config/schema.js';
import { ConfigError } from './config/load-config.js';
import { fileModeBits } from './config/formats.js';
import { startEmbeddedMariadb } from './embedded/mariadb.js';
import { Releasers } from './lifecycle/releasers.js';
import { retryInBackground } from './lifecycle/retry-in-background.js';
import { startServer, type GatewayAddress } from './net/server.js';
import { ClientTls } from './net/tls.js';
import { ServerStats } from './stats/server-stats.js';
import { batchPolicy } from './store/batch-policy.js';
import { databaseNow } from './store/sql/database-clock.js';
import { CasAllocator } from './store/cas-allocator.js';
import { parseDatabaseUrls, redactDatabaseUrl } from './store/db-url.js';
import { CoalescingStore } from './store/coalescing-store.js';
import type { KvStore } from './store/kv-store.js';
import { isPermanentConnectError } from './store/mysql-errors.js';
import { MysqlKvStore } from './store/mysql-kv-store.js';
import { createDatabasePool, type DatabaseHealth, type DatabasePool } from './store/pool.js';
import { startGatewayHeartbeat } from './store/gateway-heartbeat.js';
import { applySchema, lockTableOf } from './store/schema.js';
import { SessionLocks } from './store/session-locks.js';
import { sweepSettings } from './sweeper/expiry-sweeper.js';
import { startPeriodicSweeper } from './sweeper/periodic-sweeper.js';
import { reportedVersion } from './version.js';

export interface App {
  address(): GatewayAddress;
  /** Stops accepting, finishes in-flight commands, closes the pool and the embedded DB. Once. */
  stop(): Promise<void>;
}

const SCHEMA_RETRY_MS = 2000;
const STILL_DOWN_WARN_MS = 30_000;

/** The composition root: everything is created here and released in reverse order. */
export async function startApp(config: GatewayConfig, logger: Logger): Promise<App> {
  const releasers = new Releasers();
  try {
    // Read before anything starts, so a bad file stops the gateway with a clear message.
    const users = config.sasl.passwordFile ? await loadUsers(config.sasl.passwordFile) : null;
    checkListeners(config);
    const clientTls = await ClientTls.load(config.tls);
    const keys = config.sessions.locks ? sessionKeysOf(config) : null;
    const databaseUrl = await resolveDatabaseUrl(config, logger, releasers);
    const pool = createDatabasePool({
      endpoints: parseDatabaseUrls(databaseUrl),
      size: config.db.poolSize,
      acquireTimeoutMs: config.db.acquireTimeoutMs,
      connectTimeoutMs: config.db.connectTimeoutMs,
      idleTimeoutMs: config.db.idleTimeoutMs,
      statementTimeoutMs: config.db.statementTimeoutMs,
      reads: config.db.reads as 'writer' | 'spread',
      wsrepSyncWait: config.db.wsrepSyncWait,
    }, logger);
    releasers.push('database pool', () => pool.close());
    await ensureSchema(pool, config, logger, releasers);

    const tableStore = new MysqlKvStore(pool, new CasAllocator(pool, config.db.casBlockSize), {
      table: config.db.table,
      itemSizeMax: config.items.sizeMax,
    }, logger);
    // Released after the server has drained, before the pool: reads served last keep their marks.
    releasers.push('access marks', () => tableStore.flushAccesses());
    const batches = batchPolicy(config.coalesce);
    const coalescing = config.coalesce.enabled ? new CoalescingStore(tableStore, { ...config.coalesce, merge: batches.merge }) : null;
    const sessionLocks = keys ? await startSessionLocks(keys, config, pool, logger, releasers) : null;
    const ctx = commandContext(config, coalescing ?? tableStore, pool, logger, coalescing, sessionLocks);
    // Client connections are numbered per gateway; a session lock names its holder by it.
    let nextClientId = 1;
    if (users) logger.info('SASL authentication required', { users: users.size, passwordFile: config.sasl.passwordFile });
    const server = await startServer({
      tcp: config.listen.tcp ? { host: config.listen.host, port: config.listen.port } : null,
      socket: config.listen.socket ? { path: config.listen.socket, mode: fileModeBits(config.listen.socketMode), ownsFile: !cluster.isWorker } : null,
      tls: clientTls,
      idleTimeoutMs: config.listen.idleTimeout * 1000,
      maxConnections: config.listen.maxConnections,
      maxQueuedRequests: config.listen.maxQueuedRequests,
      shutdownGraceMs: config.listen.shutdownGraceMs,
      itemSizeMax: config.items.sizeMax,
      sasl: users ? new PlainAuthenticator(users, ctx.stats) : undefined,
    }, {
      openRunner: () => requestRunner({ ...ctx, client: { id: nextClientId++, locks: 0, held: new Set<string>() } }, batches.run),
      stats: ctx.stats,
    }, logger);
    releasers.push('server', () => server.close());
    if (config.sweeper.interval > 0) {
      // Released before the server and the pool: a pass in flight ends after its batch.
      const sweeper = startPeriodicSweeper(pool, {
        table: config.db.table,
        intervalSeconds: config.sweeper.interval,
        ...sweepSettings(config),
      }, logger);
      releasers.push('expiry sweeper', () => sweeper.stop());
    }
    return { address: () => server.address(), stop: () => releasers.release() };
  } catch (error) {
    await releasers.release().catch(() => undefined);
    throw error;
  }
}

/**
 * Session locks held in the lock table for this gateway's connections, and the heartbeat that
 * tells other gateways they are still held. Stopped after the server has drained (each closed
 * connection releases its own locks), before the pool: then whatever is left goes at once.
 */
async function startSessionLocks(
  keys: SessionKeys, config: GatewayConfig, pool: DatabasePool, logger: Logger, releasers: Releasers,
): Promise<SessionLockService> {
  const host = hostname();
  const pid = process.pid;
  const id = `${host.slice(0, 40)}:${pid}:${randomBytes(4).toString('hex')}`;
  const locks = new SessionLocks(pool, {
    table: lockTableOf(config.db.table),
    gateway: { id, host, pid },
    livenessSeconds: config.sessions.lockLiveness,
  }, logger);
  const heartbeat = await startGatewayHeartbeat(locks, config.sessions.lockLiveness, logger);
  releasers.push('session locks', () => heartbeat.stop());
  return { ...keys, locks, waitMs: config.sessions.lockWaitMs };
}

function checkListeners(config: GatewayConfig): void {
  if (!config.listen.tcp && !config.listen.socket) {
    throw new ConfigError('listen.tcp is false and listen.socket is empty: nothing to listen on; set --socket PATH, or --tcp true [listen.tcp, MEMGATE_TCP]');
  }
}

function sessionKeysOf(config: GatewayConfig): SessionKeys {
  try {
    return sessionKeys(config.sessions.lockKeys, config.sessions.dataKeys);
  } catch (error) {
    throw new ConfigError(`--session-data-keys ${config.sessions.dataKeys}: ${(error as Error).message} ` +
      '[sessions.dataKeys, MEMGATE_SESSION_DATA_KEYS; with --session-lock-keys, sessions.lockKeys]');
  }
}

async function loadUsers(path: string): Promise<Map<string, Buffer>> {
  try {
    return await readPasswordFile(path);
  } catch (error) {
    throw new ConfigError(`sasl.passwordFile: cannot use ${path}: ${(error as Error).message}`);
  }
}

async function resolveDatabaseUrl(config: GatewayConfig, logger: Logger, releasers: Releasers): Promise<string> {
  if (config.db.url) {
    logger.info('using database', { url: redactDatabaseUrl(config.db.url) });
    return config.db.url;
  }
  logger.info('no db.url configured; starting the embedded MariaDB', { dataDir: config.embedded.dataDir });
  const embedded = await startEmbeddedMariadb({
    dataDir: config.embedded.dataDir,
    port: config.embedded.port,
    database: config.embedded.database,
    logger,
  });
  releasers.push('embedded mariadb', () => embedded.stop());
  logger.info(`SQL on the embedded database: mariadb --defaults-file=${embedded.clientConfigFile} ` +
    '(memgate schema --sessions adds views of PHP sessions)');
  return embedded.url;
}

/**
 * Creates the tables when they are missing, before the first client is served. A database
 * that is down at start-up does not stop the gateway: it answers SERVER_ERROR and keeps
 * trying in the background, warning every STILL_DOWN_WARN_MS until the database is back.
 * Wrong credentials, an unknown host or an unknown database stop start-up instead (unless
 * db.waitAtStart): no retry cures them, and a gateway that only answers SERVER_ERROR would
 * look healthy.
 */
async function ensureSchema(pool: DatabasePool, config: GatewayConfig, logger: Logger, releasers: Releasers): Promise<void> {
  const apply = () => applySchema(
    pool, { engine: config.db.engine as 'innodb' | 'ndb', table: config.db.table, onlyIfMissing: true }, logger,
  ).then(() => undefined);
  const failure = await apply().then(() => undefined, (error: unknown) => ({ error }));
  if (!failure) return;
  const database = config.db.url ? redactDatabaseUrl(config.db.url) : 'the embedded MariaDB';
  const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));
  if (isPermanentConnectError(failure.error) && !config.db.waitAtStart) {
    throw new ConfigError(`cannot use the database at db.url ${database}: ${reason(failure.error)} [--db-url, MEMGATE_DB_URL]; ` +
      'retrying will not help: correct it, or pass --db-wait-at-start to start anyway and wait for the database');
  }
  logger.warn('database unavailable; answering SERVER_ERROR and retrying', { url: database, error: reason(failure.error) });
  const stop = retryInBackground(apply, {
    retryMs: SCHEMA_RETRY_MS,
    reportEveryMs: STILL_DOWN_WARN_MS,
    onStillFailing: (error, ms) => logger.warn(`database still unavailable after ${Math.round(ms / 1000)} s; answering SERVER_ERROR and retrying`, {
      url: database, error: reason(error),
    }),
    onDone: (ms) => logger.info(`database available after ${Math.round(ms / 1000)} s; serving`, { url: database }),
  });
  releasers.push('schema retry', stop);
}

function commandContext(
  config: GatewayConfig, store: KvStore, pool: DatabasePool, logger: Logger, coalescing: CoalescingStore | null,
  sessionLocks: SessionLockService | null,
): SharedContext {
  const stats = new ServerStats();
  stats.reportsIdleKicks = config.listen.idleTimeout > 0;
  const locks = sessionLocks?.locks ?? null;
  stats.trackExternal(() => {
    const { perNode, totals } = databaseCounters(pool.health());
    return [...perNode, ...totals, ...coalescingCounters(coalescing), ...lockCounters(locks)];
  });
  const version = reportedVersion();
  return {
    store,
    sessionLocks,
    stats,
    logger,
    settings: {
      version,
      flushEnabled: config.flushAll.enabled,
      report: [
        ['tcpport', String(config.listen.port)],
        ['inter', config.listen.host],
        ['maxconns', String(config.listen.maxConnections)],
        ['domain_socket', config.listen.socket || 'NULL'],
        ['umask', fileModeBits(config.listen.socketMode).toString(8)],
        ['evictions', 'off'],
        ['cas_enabled', 'yes'],
        ['binding_protocol', config.sasl.passwordFile ? 'binary' : 'auto-negotiate'],
        ['auth_enabled_sasl', config.sasl.passwordFile ? 'yes' : 'no'],
        ['item_size_max', String(config.items.sizeMax)],
        ['flush_enabled', config.flushAll.enabled ? 'yes' : 'no'],
        ['idle_timeout', String(config.listen.idleTimeout)],
        ['ssl_enabled', config.tls.cert ? 'yes' : 'no'],
        ['ssl_plain_too', config.tls.cert && config.tls.plainToo ? 'yes' : 'no'],
        ['ssl_ca_cert', config.tls.ca || 'NULL'],
        ['db_table', config.db.table],
        ['db_engine', config.db.engine],
        ['db_pool_size', String(config.db.poolSize)],
        ['coalesce_enabled', config.coalesce.enabled ? 'yes' : 'no'],
        ['coalesce_max_in_flight', String(config.coalesce.maxInFlight)],
        ['coalesce_window_ms', String(config.coalesce.windowMs)],
        ['db_reads', config.db.reads],
        ['session_locks', config.sessions.locks ? 'yes' : 'no'],
        ['session_lock_keys', config.sessions.lockKeys],
        ['session_data_keys', config.sessions.dataKeys],
        ['session_lock_liveness', String(config.sessions.lockLiveness)],
        ['session_lock_wait_ms', String(config.sessions.lockWaitMs)],
      ],
    },
    async extraStats() {
      return [
        ...databaseStats(pool, stats),
        ...counterLines(coalescingCounters(coalescing), stats),
        ...counterLines(lockCounters(locks), stats),
      ];
    },
    async databaseTime() {
      try {
        return await pool.withConnection(databaseNow);
      } catch {
        return null;
      }
    },
  };
}

/** Per-node health as memcached-style stats lines (names in README "Running several gateways"). */
function databaseStats(pool: DatabasePool, stats: ServerStats): Array<[string, string]> {
  const health = pool.health();
  const { perNode, totals } = databaseCounters(health);
  const lines: Array<[string, string]> = [
    ['db_up', pool.down ? '0' : '1'],
    ['db_nodes', String(health.nodes.length)],
    ['db_writer', String(health.writer)],
  ];
  health.nodes.forEach((node, i) => {
    lines.push([`db_node_${i}_address`, node.address], [`db_node_${i}_state`, node.up ? 'up' : 'down'], ...counterLines([perNode[i]!], stats));
  });
  return [...lines, ...counterLines(totals, stats)];
}

/** The pool's counters, which `stats reset` clears (its gauges, such as db_up, it does not). */
function databaseCounters(health: DatabaseHealth): { perNode: Array<[string, number]>; totals: Array<[string, number]> } {
  return {
    perNode: health.nodes.map((node, i) => [`db_node_${i}_downs`, node.downs]),
    totals: [['db_failovers', health.failovers], ['db_retries', health.retries], ['db_unknown_outcomes', health.unknownOutcomes]],
  };
}

function coalescingCounters(coalescing: CoalescingStore | null): Array<[string, number]> {
  if (!coalescing) return [];
  const { counts } = coalescing;
  return [
    ['coalesce_read_batches', counts.readBatches],
    ['coalesce_read_keys', counts.readKeys],
    ['coalesce_write_batches', counts.writeBatches],
    ['coalesce_write_sets', counts.writeSets],
  ];
}

/** What happened to session locks through this gateway (docs/php-sessions.md names them). */
function lockCounters(locks: SessionLocks | null): Array<[string, number]> {
  if (!locks) return [];
  const { counts } = locks;
  return [
    ['session_locks_taken', counts.taken],
    ['session_locks_taken_over', counts.takenOver],
    ['session_locks_busy', counts.busy],
    ['session_locks_released', counts.released],
    ['session_locks_released_on_close', counts.releasedOnClose],
    ['session_locks_refused_releases', counts.refusedReleases],
    ['session_data_copies_skipped', counts.skippedCopies],
  ];
}

function counterLines(counters: Array<[string, number]>, stats: ServerStats): Array<[string, string]> {
  return counters.map(([name, value]) => [name, String(stats.sinceReset(name, value))]);
}
