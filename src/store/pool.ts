import { createPool as createGenericPool, type Pool } from 'generic-pool';
import mysql from 'mysql2/promise';
import type { Logger } from 'winston';
import type { DatabaseEndpoint } from './db-url.js';
import { DatabaseUnavailableError } from './errors.js';
import { classifyMysqlError } from './mysql-errors.js';

export type Connection = mysql.Connection;

export interface DatabasePoolOptions {
  endpoint: DatabaseEndpoint;
  size: number;
  acquireTimeoutMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** a command that gets no answer from the database this long fails with SERVER_ERROR */
  statementTimeoutMs: number;
}

export interface DatabasePool {
  /** Runs fn on a pooled connection; a connection that broke is destroyed, not reused. */
  withConnection<T>(fn: (connection: Connection) => Promise<T>): Promise<T>;
  /** true while the last attempt to reach the database failed */
  readonly down: boolean;
  close(): Promise<void>;
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 2000;

/**
 * A generic-pool of mysql2 connections with a circuit breaker: while the database is down,
 * callers fail at once with DatabaseUnavailableError instead of queueing behind connect
 * attempts, and at most one reconnect attempt runs per backoff period.
 */
export function createDatabasePool(options: DatabasePoolOptions, logger: Logger): DatabasePool {
  const broken = new WeakSet<Connection>();
  let downSince: number | null = null;
  let retryAt = 0;
  let backoff = BACKOFF_MIN_MS;
  let lastError: unknown = null;
  const waiters = new Set<(error: Error) => void>();

  const markDown = (error: unknown) => {
    lastError = error;
    if (downSince === null) {
      downSince = Date.now();
      logger.error('database unreachable', { error: describe(error), host: options.endpoint.host, port: options.endpoint.port });
    } else {
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
    retryAt = Date.now() + backoff;
    const failure = unavailable(error);
    for (const reject of waiters) reject(failure);
    waiters.clear();
  };

  const markUp = () => {
    if (downSince !== null) {
      logger.warn('database reachable again', { downMs: Date.now() - downSince });
    }
    downSince = null;
    backoff = BACKOFF_MIN_MS;
  };

  const pool: Pool<Connection> = createGenericPool<Connection>(
    {
      create: async () => {
        const { endpoint } = options;
        // Requests queued inside generic-pool retry creation at once; pace them while down.
        const wait = downSince === null ? 0 : retryAt - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        try {
          const connection = await mysql.createConnection({
            host: endpoint.host,
            port: endpoint.port,
            user: endpoint.user,
            password: endpoint.password,
            database: endpoint.database,
            connectTimeout: options.connectTimeoutMs,
            // affectedRows must count changed rows: add's upsert tells stored from not
            // stored by 1-or-2 versus 0, which FOUND_ROWS would blur.
            flags: ['-FOUND_ROWS'],
            supportBigNumbers: true,
            bigNumberStrings: true,
            dateStrings: true,
          });
          connection.on('error', () => broken.add(connection));
          // NDB only offers READ COMMITTED; use it everywhere so every engine behaves alike.
          await connection.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
          markUp();
          return connection;
        } catch (error) {
          markDown(error);
          throw error;
        }
      },
      destroy: async (connection) => {
        connection.destroy();
      },
      validate: async (connection) => !broken.has(connection),
    },
    {
      max: options.size,
      min: 0,
      testOnBorrow: true,
      acquireTimeoutMillis: options.acquireTimeoutMs,
      idleTimeoutMillis: options.idleTimeoutMs,
      evictionRunIntervalMillis: Math.max(1000, Math.floor(options.idleTimeoutMs / 2)),
    },
  );

  const acquire = (): Promise<Connection> => {
    if (downSince !== null && Date.now() < retryAt) {
      return Promise.reject(unavailable(lastError));
    }
    return new Promise<Connection>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      waiters.add(fail);
      pool.acquire().then(
        (connection) => {
          waiters.delete(fail);
          if (settled) {
            void pool.release(connection);
            return;
          }
          settled = true;
          resolve(connection);
        },
        (error: unknown) => {
          waiters.delete(fail);
          fail(error instanceof DatabaseUnavailableError ? error : unavailable(error ?? lastError));
        },
      );
    });
  };

  return {
    get down() {
      return downSince !== null;
    },
    async withConnection(fn) {
      const connection = await acquire();
      try {
        const result = await withDeadline(fn(connection), options.statementTimeoutMs, () => {
          // A database that accepts connections but never answers (frozen, partitioned)
          // must not hang clients: drop the connection and report the outage.
          broken.add(connection);
          connection.destroy();
          const error = new DatabaseUnavailableError(
            `database did not answer within ${options.statementTimeoutMs} ms`, { maybeApplied: true });
          markDown(error);
          return error;
        });
        void pool.release(connection);
        markUp();
        return result;
      } catch (error) {
        if (classifyMysqlError(error) === 'connection' || broken.has(connection)) {
          broken.add(connection);
          void pool.destroy(connection);
          // The statement was sent, or might have been: its effect is unknown.
          throw unavailable(error, true);
        }
        void pool.release(connection);
        throw error;
      }
    },
    async close() {
      await pool.drain();
      await pool.clear();
    },
  };
}

function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  work.catch(() => undefined); // after a timeout the destroyed connection rejects it; nobody waits
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    return code ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

function unavailable(error: unknown, maybeApplied = false): DatabaseUnavailableError {
  if (error instanceof DatabaseUnavailableError) return error;
  const detail = error ? describe(error) : 'no connection could be acquired in time';
  return new DatabaseUnavailableError(`database unavailable (${detail})`, { cause: error, maybeApplied });
}
