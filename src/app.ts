import { AggregatorRegistry, Registry } from 'prom-client';
import type { Logger } from 'winston';
import { startAdminServer, type AdminServer, type MetricsText } from './admin/admin-server.js';
import { registerGatewayMetrics, statementHistogram } from './admin/metrics.js';
import { observedRunner, type RunObserver } from './admin/observed-runner.js';
import { readinessCheck } from './admin/readiness.js';
import { timedPool } from './admin/timed-pool.js';
import { readPasswordFile } from './auth/password-file.js';
import { PlainAuthenticator } from './auth/plain-authenticator.js';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { ClientSession, SessionLockService, SharedContext } from './commands/handler.js';
import { sessionKeys, type SessionKeys } from './commands/lock-keys.js';
import { requestRunner } from './commands/request-runner.js';
import type { WorkerIdentity } from './cluster/worker.js';
import type { GatewayConfig } from './config/schema.js';
import { ConfigError } from './config/load-config.js';
import { fileModeBits } from './config/formats.js';
import { startEmbeddedMariadb } from './embedded/mariadb.js';
import { Releasers } from './lifecycle/releasers.js';
import { retryInBackground } from './lifecycle/retry-in-background.js';
import { startServer, type GatewayAddress } from './net/server.js';
import { ClientTls } from './net/tls.js';
import { gatewayStats } from './stats/gateway-stats.js';
import { ItemEstimate } from './stats/item-estimate.js';
import { ServerStats } from './stats/server-stats.js';
import { batchPolicy } from './store/batch-policy.js';
import { probeTables } from './store/sql/table-size.js';
import { CasAllocator } from './store/cas-allocator.js';
import { databaseEndpoints, DatabaseTlsError } from './store/db-tls.js';
import { redactDatabaseUrl } from './store/db-url.js';
import { CoalescingStore } from './store/coalescing-store.js';
import type { KvStore } from './store/kv-store.js';
import { isPermanentConnectError } from './store/mysql-errors.js';
import { MysqlKvStore } from './store/mysql-kv-store.js';
import { createDatabasePool, type DatabasePool } from './store/pool.js';
import { startGatewayHeartbeat } from './store/gateway-heartbeat.js';
import { applySchema, lockTableOf } from './store/schema.js';
import { SessionLocks } from './store/session-locks.js';
import { sweepSettings } from './sweeper/expiry-sweeper.js';
import { startPeriodicSweeper, type PeriodicSweeper } from './sweeper/periodic-sweeper.js';
import { reportedVersion } from './version.js';

export interface App {
  address(): GatewayAddress;
  /** Stops accepting, finishes in-flight commands, closes the pool and the embedded DB. Once. */
  stop(): Promise<void>;
}

const SCHEMA_RETRY_MS = 2000;
/** /readyz probes the database at most once a second and waits for it 2 s at most */
const READINESS = { reuseMs: 1000, timeoutMs: 2000 };
const STILL_DOWN_WARN_MS = 30_000;

/** The composition root: everything is created here and released in reverse order. */
export async function startApp(config: GatewayConfig, logger: Logger, worker?: WorkerIdentity): Promise<App> {
  const releasers = new Releasers();
  try {
    // Read before anything starts, so a bad file stops the gateway with a clear message.
    const users = config.sasl.passwordFile ? await loadUsers(config.sasl.passwordFile) : null;
    checkListeners(config);
    const clientTls = await ClientTls.load(config.tls);
    const keys = config.sessions.locks ? sessionKeysOf(config) : null;
    const databaseUrl = await resolveDatabaseUrl(config, logger, releasers);
    const databasePool = openDatabasePool(config, databaseUrl, config.db.poolSize, logger);
    releasers.push('database pool', () => databasePool.close());
    // Metrics cost work per request: only a gateway with an admin listener keeps them.
    const registry = config.admin.port > 0 ? new Registry() : null;
    // With workers, the primary's admin listener asks each worker for its registry.
    if (registry && worker) reportToPrimary(registry);
    const pool = registry ? timedPool(databasePool, statementHistogram(registry)) : databasePool;
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
    const stats = new ServerStats();
    stats.reportsIdleKicks = config.listen.idleTimeout > 0;
    const statsGroup = gatewayStats({
      stats,
      version: reportedVersion(),
      maxConnections: config.listen.maxConnections,
      itemSizeMax: config.items.sizeMax,
      pool,
      items: new ItemEstimate(pool, config.db.table),
      coalescing,
      locks: sessionLocks?.locks ?? null,
      worker,
    });
    const ctx = commandContext(config, coalescing ?? tableStore, statsGroup, stats, logger, sessionLocks);
    let sweeper: PeriodicSweeper | null = null;
    // The client connections open now; their session locks are a gauge.
    const clients = new Set<ClientSession>();
    const commandMetrics = registry ? registerGatewayMetrics(registry, {
      stats,
      pool,
      coalescing,
      locks: sessionLocks?.locks ?? null,
      locksHeld: () => [...clients].reduce((sum, client) => sum + client.locks, 0),
      sweeper: () => sweeper?.counts ?? null,
    }) : null;
    const observe: RunObserver = (requests, responses, seconds) => {
      for (const response of responses) if (response.kind === 'store' && response.outcome === 'stored') stats.itemsStored++;
      commandMetrics?.record(requests, responses, seconds);
    };
    // Client connections are numbered per gateway; a session lock names its holder by it.
    let nextClientId = 1;
    if (users) logger.info('SASL authentication required', { users: users.size, passwordFile: config.sasl.passwordFile });
    const server = await startServer({
      tcp: config.listen.tcp ? { host: config.listen.host, port: config.listen.port } : null,
      socket: config.listen.socket ? { path: config.listen.socket, mode: fileModeBits(config.listen.socketMode), ownsFile: !worker } : null,
      tls: clientTls,
      idleTimeoutMs: config.listen.idleTimeout * 1000,
      maxConnections: config.listen.maxConnections,
      maxQueuedRequests: config.listen.maxQueuedRequests,
      shutdownGraceMs: config.listen.shutdownGraceMs,
      itemSizeMax: config.items.sizeMax,
      sasl: users ? new PlainAuthenticator(users, ctx.stats) : undefined,
    }, {
      openRunner: () => {
        const client: ClientSession = { id: nextClientId++, locks: 0, held: new Set<string>() };
        clients.add(client);
        return observedRunner(requestRunner({ ...ctx, client }, batches.run), observe, () => clients.delete(client));
      },
      stats: ctx.stats,
    }, logger);
    releasers.push('server', () => server.close());
    if (config.sweeper.interval > 0) {
      // Released before the server and the pool: a pass in flight ends after its batch.
      const periodic = startPeriodicSweeper(pool, {
        table: config.db.table,
        intervalSeconds: config.sweeper.interval,
        ...sweepSettings(config),
      }, logger);
      sweeper = periodic;
      releasers.push('expiry sweeper', () => periodic.stop());
    }
    if (registry && !worker) {
      const metrics = async () => ({ contentType: registry.contentType, body: await registry.metrics() });
      // Closed first: load balancers checking it take this gateway out while it drains.
      const admin = await startAdmin(config, pool, metrics, logger);
      releasers.push('admin listener', () => admin.close());
    }
    return { address: () => server.address(), stop: () => releasers.release() };
  } catch (error) {
    await releasers.release().catch(() => undefined);
    throw error;
  }
}

/** The gateway's pool of `size` connections to each node of the database URL. */
export function openDatabasePool(config: GatewayConfig, databaseUrl: string, size: number, logger: Logger): DatabasePool {
  return createDatabasePool({
    endpoints: tlsChecked(() => databaseEndpoints(databaseUrl, config.db)),
    size,
    acquireTimeoutMs: config.db.acquireTimeoutMs,
    connectTimeoutMs: config.db.connectTimeoutMs,
    idleTimeoutMs: config.db.idleTimeoutMs,
    statementTimeoutMs: config.db.statementTimeoutMs,
    reads: config.db.reads as 'writer' | 'spread',
    wsrepSyncWait: config.db.wsrepSyncWait,
  }, logger);
}

/**
 * The admin listener of a lone gateway, or of the primary of several workers: /metrics from
 * `metrics`, /readyz from a probe of the tables the gateway serves, through `pool`.
 */
export async function startAdmin(
  config: GatewayConfig, pool: DatabasePool, metrics: () => Promise<MetricsText>, logger: Logger,
): Promise<AdminServer> {
  const servedTables = config.sessions.locks ? [config.db.table, lockTableOf(config.db.table)] : [config.db.table];
  return startAdminServer({
    host: config.admin.host,
    port: config.admin.port,
    metrics,
    ready: readinessCheck(() => pool.withConnection((c) => probeTables(c, servedTables)), READINESS),
  }, logger).catch((error: unknown) => {
    throw adminListenError(error, config);
  });
}

/**
 * A worker answers the primary's requests for its metrics (prom-client's cluster messages);
 * constructing an AggregatorRegistry is how prom-client installs that listener.
 */
function reportToPrimary(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry();
}

/** A listen failure of the admin listener, named so that it is not taken for the memcached port's. */
function adminListenError(error: unknown, config: GatewayConfig): unknown {
  const address = `${config.admin.host}:${config.admin.port}`;
  const names = '[admin.port, MEMGATE_ADMIN_PORT; admin.host, MEMGATE_ADMIN_HOST]';
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE': return new ConfigError(`admin listener: ${address} is in use; choose another with --admin-port ${names}`);
    case 'EACCES': return new ConfigError(`admin listener: no permission to listen on ${address}; choose another with --admin-port ${names}`);
    case 'EADDRNOTAVAIL': case 'ENOTFOUND': case 'EAI_AGAIN':
      return new ConfigError(`admin listener: cannot listen on ${address}: no such address on this machine; choose another with --admin-host ${names}`);
    default: return error;
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

/** A certificate setting that cannot work stops start-up like any other bad setting. */
function tlsChecked<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw error instanceof DatabaseTlsError ? new ConfigError(error.message) : error;
  }
}

async function loadUsers(path: string): Promise<Map<string, Buffer>> {
  try {
    return await readPasswordFile(path);
  } catch (error) {
    throw new ConfigError(`sasl.passwordFile: cannot use ${path}: ${(error as Error).message}`);
  }
}

/** db.url, or the URL of the embedded MariaDB started (and released) for it. */
export async function resolveDatabaseUrl(config: GatewayConfig, logger: Logger, releasers: Releasers): Promise<string> {
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
  config: GatewayConfig, store: KvStore, statsGroup: SharedContext['statsGroup'], stats: ServerStats, logger: Logger,
  sessionLocks: SessionLockService | null,
): SharedContext {
  return {
    store,
    sessionLocks,
    stats,
    logger,
    statsGroup,
    settings: {
      version: reportedVersion(),
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
        ['admin_port', String(config.admin.port)],
      ],
    },
  };
}
