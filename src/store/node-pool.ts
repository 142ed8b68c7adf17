import { createPool as createGenericPool, type Pool } from 'generic-pool';
import type { Logger } from 'winston';
import { endpointAddress, type DatabaseEndpoint } from './db-url.js';
import { DatabaseUnavailableError } from './errors.js';
import { classifyMysqlError, errorCode, refusedBeforeRunning } from './mysql-errors.js';
import { SqlSession } from './sql-session.js';

/**
 * Why a node left service: unreachable (refused, reset, lost), silent past the statement
 * timeout, or refusing work (Galera not synced, read-only, NDB cluster failure).
 */
export type DownCause = 'connection' | 'timeout' | 'not_ready';

export interface NodePoolOptions {
  /** position in db.url, for logs and stats */
  index: number;
  endpoint: DatabaseEndpoint;
  size: number;
  acquireTimeoutMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** a command that gets no answer from the database this long fails with SERVER_ERROR */
  statementTimeoutMs: number;
  wsrepSyncWait: number;
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 2000;
/** A node that fails again within this long of being taken back keeps its longer backoff. */
const STABLE_MS = 10_000;
/** wsrep_local_state of a Galera node that applies and serves everything: Synced */
const GALERA_SYNCED = '4';

/**
 * The connections to one SQL node and what the gateway knows of its health. A node that fails
 * (connection refused or lost, a statement timeout, Galera not ready) is marked down: callers
 * fail at once with DatabaseUnavailableError instead of queueing behind connect attempts, and a
 * probe with backoff takes it back once it accepts connections and, on Galera, is Synced.
 */
export class NodePool {
  readonly address: string;
  /** times this node was marked down */
  downs = 0;
  /** why the node was last taken out of service; what a failover away from it is counted under */
  downCause: DownCause = 'connection';
  private downSince: number | null = null;
  private upSince = 0;
  private lastError: unknown = null;
  private backoff = BACKOFF_MIN_MS;
  private probeTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly waiters = new Set<(error: Error) => void>();
  private readonly pool: Pool<SqlSession>;

  constructor(private readonly options: NodePoolOptions, private readonly logger: Logger) {
    this.address = endpointAddress(options.endpoint);
    this.pool = createGenericPool<SqlSession>(
      {
        create: async () => {
          // generic-pool retries a failed creation at once for requests still queued (their
          // callers were already failed); pace those attempts while the node is down.
          if (this.downSince !== null || this.closed) await sleep(this.backoff);
          try {
            return await this.open();
          } catch (error) {
            this.markDown(error);
            throw error;
          }
        },
        destroy: async (session) => session.destroy(),
        validate: async (session) => !session.broken,
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
  }

  get up(): boolean {
    return this.downSince === null;
  }

  get error(): unknown {
    return this.lastError;
  }

  /** Sessions lent out, sessions idle in the pool, and callers queued for one (for metrics). */
  usage(): { inUse: number; idle: number; waiting: number } {
    return { inUse: this.pool.borrowed, idle: this.pool.available, waiting: this.pool.pending };
  }

  /** Runs fn on a pooled session; a session that broke is destroyed, not reused. */
  async withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    const session = await this.acquire();
    session.reset();
    try {
      const result = await withDeadline(fn(session), this.options.statementTimeoutMs, () => {
        // A node that accepts connections but never answers (frozen, partitioned, a Galera
        // cluster stalled) must not hang clients: drop the connection and report the outage.
        session.destroy();
        const error = new DatabaseUnavailableError(
          `database ${this.address} did not answer within ${this.options.statementTimeoutMs} ms`,
          { maybeApplied: session.mayHaveChanged },
        );
        this.markDown(error, 'timeout');
        return error;
      });
      void this.pool.release(session);
      return result;
    } catch (error) {
      const kind = classifyMysqlError(error);
      if (kind === 'connection' || session.broken) {
        // generic-pool's destroy calls the factory's, which closes the session.
        void this.pool.destroy(session);
        throw this.unavailable(error, session.mayHaveChanged);
      }
      void this.pool.release(session);
      if (kind === 'node_not_ready') {
        // The node gets no more work until its probe passes. A read-only refusal ran nothing;
        // Galera's 1047 or NDB's cluster failure may have cut a commit short, so whether the
        // command applied is what the session knows about what it sent.
        this.markDown(error, 'not_ready');
        throw this.unavailable(error, !refusedBeforeRunning(error) && session.mayHaveChanged);
      }
      // e.g. 1180 at COMMIT; before any change was sent the server rolls everything back.
      if (kind === 'unknown_outcome') throw this.unavailable(error, session.mayHaveChanged);
      throw error;
    }
  }

  /**
   * Takes the node out of service until a probe finds it healthy. `cause` defaults to what the
   * error says: a node that refuses work (Galera not ready, read-only), or one that cannot be
   * reached.
   */
  markDown(error: unknown, cause: DownCause = classifyMysqlError(error) === 'node_not_ready' ? 'not_ready' : 'connection'): void {
    this.lastError = error;
    if (this.closed) return;
    if (this.downSince === null) {
      this.downSince = Date.now();
      this.downs++;
      this.downCause = cause;
      // A node that passes its probe but fails again at once (flapping, or healthy to the probe
      // but not to real statements) is probed less and less often rather than every 100 ms.
      this.backoff = Date.now() - this.upSince < STABLE_MS ? Math.min(this.backoff * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
      this.logger.warn('database node down', { node: this.options.index, address: this.address, error: describe(error) });
      this.scheduleProbe();
    }
    const failure = this.unavailable(error, false);
    for (const reject of this.waiters) reject(failure);
    this.waiters.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    // drain() also waits for acquire requests still queued in generic-pool; while the node is
    // down those belong to callers that were already failed, and would only hold the close up
    // until they time out.
    if (this.up) await this.pool.drain();
    await this.pool.clear();
  }

  private open(): Promise<SqlSession> {
    const { endpoint, connectTimeoutMs, wsrepSyncWait, statementTimeoutMs } = this.options;
    return SqlSession.open({ endpoint, connectTimeoutMs, wsrepSyncWait, statementTimeoutMs });
  }

  private scheduleProbe(): void {
    if (this.closed) return;
    this.probeTimer = setTimeout(() => void this.probe(), this.backoff);
    this.probeTimer.unref();
  }

  /** One health check of a down node on a connection of its own. */
  private async probe(): Promise<void> {
    this.probeTimer = null;
    let session: SqlSession | null = null;
    try {
      session = await this.open();
      const opened = session;
      const notReady = await withDeadline(galeraNotReady(opened), this.options.connectTimeoutMs, () => {
        opened.destroy();
        return new Error(`no answer to the health check within ${this.options.connectTimeoutMs} ms`);
      });
      if (notReady) throw new Error(notReady);
      if (this.closed) return;
      const downMs = this.downSince === null ? 0 : Date.now() - this.downSince;
      this.downSince = null;
      this.upSince = Date.now();
      this.logger.info('database node up', { node: this.options.index, address: this.address, downMs });
    } catch (error) {
      this.lastError = error;
      this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
      this.scheduleProbe();
    } finally {
      session?.destroy();
    }
  }

  private acquire(): Promise<SqlSession> {
    if (this.downSince !== null) return Promise.reject(this.unavailable(this.lastError, false));
    return new Promise<SqlSession>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      this.waiters.add(fail);
      this.pool.acquire().then(
        (session) => {
          this.waiters.delete(fail);
          if (settled) {
            void this.pool.release(session);
            return;
          }
          settled = true;
          resolve(session);
        },
        (error: unknown) => {
          this.waiters.delete(fail);
          // No connection: nothing was sent.
          fail(this.unavailable(error ?? this.lastError, false));
        },
      );
    });
  }

  private unavailable(error: unknown, maybeApplied: boolean): DatabaseUnavailableError {
    if (error instanceof DatabaseUnavailableError) {
      return error.maybeApplied === maybeApplied ? error
        : new DatabaseUnavailableError(error.message, { cause: error.cause, maybeApplied });
    }
    const detail = error ? describe(error) : 'no connection could be acquired in time';
    return new DatabaseUnavailableError(`database unavailable (${detail})`, { cause: error, maybeApplied });
  }
}

/** Why a Galera node should not get work yet, or null (also for a server without Galera). */
async function galeraNotReady(session: SqlSession): Promise<string | null> {
  if (!session.galera) return null;
  const [rows] = await session.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state')");
  const status = new Map((rows as Array<{ Variable_name: string; Value: string }>).map((r) => [r.Variable_name.toLowerCase(), r.Value]));
  if (status.get('wsrep_ready') !== 'ON') return 'Galera node not ready (wsrep_ready is not ON)';
  if (status.get('wsrep_local_state') !== GALERA_SYNCED) {
    return `Galera node not synced (wsrep_local_state ${status.get('wsrep_local_state') ?? '?'})`;
  }
  return null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** work's outcome, or onTimeout's error when work takes longer than ms; one promise per command. */
function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    // After a timeout the destroyed connection rejects work; this settles nothing then.
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = errorCode(error);
    return code ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
