import type { Logger } from 'winston';
import type { Item } from '../model/response.js';
import { mapKey, uniqueKeys } from './kv-store.js';
import type { Connection, DatabasePool } from './pool.js';
import { withRetry, type RetryPolicy } from './retry.js';
import { gatewayStatements, type GatewayIdentity } from './sql/gateways.js';
import { sessionLockStatements, type SessionLockStatements } from './sql/session-locks.js';

export interface SessionLockOptions {
  /** the lock table (schema.ts lockTableOf) */
  table: string;
  gateway: GatewayIdentity;
  /** a gateway whose heartbeat is older than this many seconds is dead, and its locks free */
  livenessSeconds: number;
}

/** Long-silent gateways' rows are deleted after this long, so the table shows the living. */
const FORGET_GATEWAYS_AFTER_SECONDS = 3600;

/**
 * Session locks held for this gateway's client connections (each identified by a number),
 * in the lock table, which pays no redo-log flush. A lock exists only while its holder runs:
 * released by its holder, by its connection closing, or taken over once it expires or its
 * gateway stops writing heartbeats. Every statement goes to the writer node, where the table is.
 */
export class SessionLocks {
  private readonly sql: SessionLockStatements;
  /** connections that closed while holding locks, whose release has not reached the database */
  private readonly unreleased = new Set<number>();
  private readonly releasing = new Set<Promise<void>>();
  /** connections waiting for a lock to be released, by lock key, first come first woken */
  private readonly waiters = new Map<string, Array<() => void>>();
  /** what happened to locks; reported by stats */
  readonly counts = {
    taken: 0, takenOver: 0, busy: 0, released: 0, releasedOnClose: 0, refusedReleases: 0,
    /** copies of session data not written (commands/session-lock.ts isDataCopy) */
    skippedCopies: 0,
  };

  constructor(
    private readonly pool: DatabasePool,
    private readonly options: SessionLockOptions,
    private readonly logger: Logger,
  ) {
    this.sql = sessionLockStatements(options.table, options.livenessSeconds);
  }

  get gateway(): GatewayIdentity {
    return this.options.gateway;
  }

  /**
   * add (refresh false) or set (true) of a lock key for a connection: true when it holds the
   * lock now. A set also refreshes a lock the connection holds; an add of it is refused.
   */
  async take(connection: number, key: Buffer, value: Buffer, flags: number, exptime: number, refresh: boolean): Promise<boolean> {
    // An add could take effect twice, so it only runs again when it certainly did not run.
    const outcome = await this.run('once', (c) => this.sql.take(c, key, value, flags, exptime, this.holder(connection), refresh));
    if (outcome === 'busy') this.counts.busy++;
    else if (outcome === 'taken_over') this.counts.takenOver++;
    else this.counts.taken++;
    return outcome !== 'busy';
  }

  /** replace of a lock key: true when the connection holds it (its value, flags and expiry change) */
  replace(connection: number, key: Buffer, value: Buffer, flags: number, exptime: number): Promise<boolean> {
    return this.run('idempotent', (c) => this.sql.replace(c, key, value, flags, exptime, this.holder(connection)));
  }

  /** touch of a lock key: true when the connection holds it */
  touch(connection: number, key: Buffer, exptime: number): Promise<boolean> {
    return this.run('idempotent', (c) => this.sql.touch(c, key, exptime, this.holder(connection)));
  }

  /** delete of a lock key: true when the connection held it; nobody else's lock is touched */
  async release(connection: number, key: Buffer): Promise<boolean> {
    const released = await this.run('idempotent', (c) => this.sql.release(c, key, this.holder(connection)));
    if (released) {
      this.counts.released++;
      this.wakeWaiter(mapKey(key));
    }
    else this.counts.refusedReleases++;
    return released;
  }

  /** The held locks among the keys, as items (a lock has no CAS: 0). */
  async read(keys: Buffer[]): Promise<Map<string, Item>> {
    if (keys.length === 0) return new Map();
    const rows = await this.run('idempotent', (c) => this.sql.read(c, uniqueKeys(keys)));
    return new Map(rows.map((row) => [mapKey(row.lock_key), { key: row.lock_key, value: row.lock_value, flags: Number(row.flags), cas: 0n }]));
  }

  /**
   * A connection that took locks has closed: its locks go now. When the database cannot be
   * reached, the release is tried again at every heartbeat (maintain()).
   */
  connectionClosed(connection: number): void {
    const release = this.releaseConnection(connection).finally(() => this.releasing.delete(release));
    this.releasing.add(release);
  }

  private async releaseConnection(connection: number): Promise<void> {
    try {
      const released = await this.run('idempotent', (c) => this.sql.releaseConnection(c, this.holder(connection)));
      this.counts.releasedOnClose += released;
      // Which keys went is not known here: every waiter tries again.
      if (released > 0) for (const key of [...this.waiters.keys()]) this.wakeWaiter(key);
      this.unreleased.delete(connection);
    } catch (error) {
      this.unreleased.add(connection);
      this.logger.warn('cannot release the session locks of a closed connection; trying again', { error: (error as Error).message });
    }
  }

  /** The heartbeat: proves this gateway alive, and retries releases that failed. */
  async heartbeat(): Promise<void> {
    await this.run('idempotent', (c) => gatewayStatements.heartbeat(c, this.options.gateway));
    for (const connection of [...this.unreleased]) await this.releaseConnection(connection);
  }

  /** Deletes rows nobody holds any more (expired, or of dead gateways), and long-dead gateways. */
  async deleteFree(): Promise<number> {
    return this.run('idempotent', async (c) => {
      await gatewayStatements.forgetSilent(c, FORGET_GATEWAYS_AFTER_SECONDS);
      return this.sql.deleteFree(c);
    });
  }

  /** The gateway stops: its locks and its heartbeat row go, after the releases under way. */
  async leave(): Promise<void> {
    await Promise.all(this.releasing);
    await this.run('idempotent', async (c) => {
      await this.sql.releaseGateway(c, this.options.gateway.id);
      await gatewayStatements.leave(c, this.options.gateway.id);
    });
  }

  /**
   * Waits until this gateway releases the lock (the first waiter of a key is woken by each
   * release), or ms pass: a lock held through another gateway, or one that expires or is
   * orphaned, gives no signal here, so the caller tries again at each deadline anyway.
   */
  waitForRelease(key: Buffer, ms: number): Promise<void> {
    const name = mapKey(key);
    return new Promise((resolve) => {
      const queue = this.waiters.get(name) ?? [];
      this.waiters.set(name, queue);
      const wake = () => {
        clearTimeout(timer);
        const at = queue.indexOf(wake);
        if (at >= 0) queue.splice(at, 1);
        if (queue.length === 0 && this.waiters.get(name) === queue) this.waiters.delete(name);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      queue.push(wake);
    });
  }

  private wakeWaiter(name: string): void {
    this.waiters.get(name)?.[0]?.();
  }

  private holder(connection: number) {
    return { gateway: this.options.gateway.id, connection };
  }

  private run<T>(retry: RetryPolicy, statement: (c: Connection) => Promise<T>): Promise<T> {
    return withRetry(this.pool, this.logger, retry, () => this.pool.withConnection(statement, 'write'));
  }
}
