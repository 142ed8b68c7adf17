import type { Logger } from 'winston';
import type { GatewayConfig } from '../config/schema.js';
import { startEmbeddedMariadb } from '../embedded/mariadb.js';
import { databaseEndpoints } from '../store/db-tls.js';
import { createDatabasePool, type DatabasePool } from '../store/pool.js';

/**
 * For one-shot commands: a one-connection pool per node of db.url, or on the embedded MariaDB when
 * db.url is empty (shared with a running `memgate serve` on the same data directory).
 * Everything is closed when fn settles.
 */
export async function withDatabase<T>(
  config: GatewayConfig,
  logger: Logger,
  statementTimeoutMs: number,
  fn: (pool: DatabasePool) => Promise<T>,
): Promise<T> {
  let stopEmbedded: (() => Promise<void>) | null = null;
  let url = config.db.url;
  if (!url) {
    const embedded = await startEmbeddedMariadb({
      dataDir: config.embedded.dataDir, port: config.embedded.port, database: config.embedded.database, logger,
    });
    stopEmbedded = () => embedded.stop();
    url = embedded.url;
  }
  const pool = createDatabasePool({
    endpoints: databaseEndpoints(url, config.db), size: 1, acquireTimeoutMs: config.db.connectTimeoutMs * 2,
    connectTimeoutMs: config.db.connectTimeoutMs, idleTimeoutMs: 1000, statementTimeoutMs,
    wsrepSyncWait: config.db.wsrepSyncWait,
  }, logger);
  try {
    return await fn(pool);
  } finally {
    await pool.close();
    await stopEmbedded?.();
  }
}
