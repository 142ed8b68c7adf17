import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'winston';
import type { GatewayConfig } from '../config/schema.js';
import { Lease, type LeaseHeld } from '../store/lease.js';
import type { Connection, DatabasePool } from '../store/pool.js';
import { withRetry } from '../store/retry.js';
import { databaseNow } from '../store/sql/database-clock.js';
import { sweepRunners, type SweepCursor } from '../store/sql/sweep-expired.js';

export interface SweepSettings {
  /** rows looked at and deleted per statement */
  batchSize: number;
  /** least pause between two batches; the sweeper also rests as long as the last batch took */
  pauseMs: number;
  /** a pass stops after this long (0: no limit); the rest waits for the next pass */
  budgetMs: number;
}

/** The sweeper block of the configuration, in the units the sweeper works in. */
export function sweepSettings(config: GatewayConfig): SweepSettings {
  return { batchSize: config.sweeper.batchSize, pauseMs: config.sweeper.pauseMs, budgetMs: config.sweeper.budget * 1000 };
}

export interface SweepProgress {
  /** rows deleted; in a dry run, rows that would be */
  rows: number;
  batches: number;
  elapsedMs: number;
}

/** Why a pass ended: it ran out of expired rows, out of time, was asked to stop, or lost its lease. */
export type SweepEnd = 'done' | 'budget' | 'stopped' | 'lease_lost';

export interface SweepResult extends SweepProgress {
  end: SweepEnd;
  dryRun: boolean;
}

export type PassOutcome = { kind: 'swept'; result: SweepResult } | { kind: 'busy'; held: LeaseHeld };

export interface PassOptions extends SweepSettings {
  /** count what would be deleted; deletes nothing and takes no lease */
  dryRun?: boolean;
  /** asks the pass to end after the batch in flight */
  signal?: AbortSignal;
  onProgress?: (progress: SweepProgress) => void;
  /**
   * After the pass, keep the lease this many seconds more, so that sweepers elsewhere do not
   * repeat the pass at once (the in-process sweeper keeps it for its interval). Default 0.
   */
  holdSeconds?: number;
  /** how long the lease lasts unless renewed; renewed when a third of it is gone (default 30 s plus the pause) */
  leaseSeconds?: number;
}

/** A lease outlives any one batch (statements time out sooner) and the pause after it. */
const LEASE_BASE_MS = 30_000;

/**
 * Removes expired rows (including rows hidden by flush_all, which are expired rows) from one
 * item table in short batches. One pass covers the rows expired when it started. Passes on
 * other gateways or hosts are kept apart by a lease named after the table; a pass that finds
 * the lease taken does nothing. Deleting stays safe without the lease, since every DELETE
 * re-checks expiry; the lease only keeps the work from being done several times.
 */
export class ExpirySweeper {
  private readonly lease: Lease;

  constructor(
    private readonly pool: DatabasePool,
    private readonly table: string,
    private readonly logger: Logger,
  ) {
    this.lease = new Lease(pool, logger, `sweep:${table}`);
  }

  /** One pass. Fails with DatabaseUnavailableError or DatabaseQueryError. */
  async pass(options: PassOptions): Promise<PassOutcome> {
    const started = performance.now();
    const dryRun = options.dryRun ?? false;
    const leaseMs = options.leaseSeconds !== undefined ? options.leaseSeconds * 1000 : LEASE_BASE_MS + options.pauseMs;
    if (!dryRun) {
      const held = await this.lease.take(Math.ceil(leaseMs / 1000));
      if (held) {
        this.logger.debug('sweep skipped: another sweeper holds the lease', { table: this.table, ...held });
        return { kind: 'busy', held };
      }
    }
    const sql = sweepRunners(this.table, options.batchSize);
    let rows = 0;
    let batches = 0;
    const progress = (): SweepProgress => ({ rows, batches, elapsedMs: performance.now() - started });
    let end: SweepEnd = 'done';
    let renewedAt = performance.now();
    try {
      const upTo = await this.statement(databaseNow);
      let cursor: SweepCursor = { expiry: 0, mkey: Buffer.alloc(0) };
      for (;;) {
        if (options.signal?.aborted) {
          end = 'stopped';
          break;
        }
        if (options.budgetMs > 0 && performance.now() - started >= options.budgetMs) {
          end = 'budget';
          break;
        }
        if (!dryRun && performance.now() - renewedAt > leaseMs / 3) {
          const held = await this.lease.take(Math.ceil(leaseMs / 1000));
          if (held) {
            this.logger.warn('sweep stopped: another sweeper took the lease', { table: this.table, ...held });
            end = 'lease_lost';
            break;
          }
          renewedAt = performance.now();
        }
        const batchStarted = performance.now();
        const batch = await this.batch(sql, cursor, upTo, options);
        if (batch.found === 0) break;
        rows += batch.rows;
        batches += 1;
        cursor = batch.last;
        options.onProgress?.(progress());
        this.logger.debug('sweep batch', { table: this.table, rows, batches });
        if (batch.found < options.batchSize) break;
        // Rest at least as long as the batch took: a busy database makes batches slower, and
        // the sweeper then backs off by itself (it never takes more than half the time).
        const rest = Math.max(options.pauseMs, performance.now() - batchStarted);
        await sleep(rest, undefined, { signal: options.signal }).catch(() => undefined);
      }
    } finally {
      if (!dryRun) {
        const hold = end === 'done' || end === 'budget' ? options.holdSeconds ?? 0 : 0;
        await this.lease.release(hold).catch((error: unknown) => {
          // It runs out by itself.
          this.logger.debug('could not release the sweep lease', { error: (error as Error).message });
        });
      }
    }
    const result: SweepResult = { ...progress(), end, dryRun };
    // An idle periodic sweeper stays quiet at info.
    this.logger.log(rows > 0 || end !== 'done' || dryRun ? 'info' : 'debug', dryRun ? 'sweep dry run' : 'sweep pass', {
      table: this.table, rows, batches, seconds: Number((result.elapsedMs / 1000).toFixed(3)), end,
    });
    return { kind: 'swept', result };
  }

  /** Gives up the lease now (a gateway that stops hands sweeping to the others at once). */
  releaseLease(): Promise<void> {
    return this.lease.release(0);
  }

  /**
   * Reads the next expired rows after the cursor and deletes those still expired (in a dry
   * run, counts them). found: rows read; rows: rows deleted or counted.
   */
  private async batch(
    sql: ReturnType<typeof sweepRunners>, from: SweepCursor, upTo: number, options: PassOptions,
  ): Promise<{ found: number; rows: number; last: SweepCursor }> {
    const found = await this.statement((c) => sql.nextExpired(c, from, upTo));
    if (found.length === 0) return { found: 0, rows: 0, last: from };
    const last = found[found.length - 1]!;
    if (options.dryRun) return { found: found.length, rows: found.length, last };
    const keys = found.map((row) => row.mkey);
    while (keys.length < options.batchSize) keys.push(keys[0]!);
    const rows = await this.statement((c) => sql.deleteExpired(c, keys));
    return { found: found.length, rows, last };
  }

  private statement<T>(fn: (c: Connection) => Promise<T>): Promise<T> {
    // Every statement of a pass is idempotent: a DELETE of expired rows may run twice.
    return withRetry(this.pool, this.logger, 'idempotent', () => this.pool.withConnection(fn));
  }
}
