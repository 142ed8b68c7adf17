import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'winston';
import type { Connection, DatabasePool } from './pool.js';
import { withRetry } from './retry.js';
import { affectedRows, rowsOf } from './sql/results.js';

/** Who holds a lease someone else wanted, and for how many more seconds by the database clock. */
export interface LeaseHeld {
  holder: string;
  secondsLeft: number;
}

const TAKE = `UPDATE memgate_lease SET holder = ?, expires_at = UNIX_TIMESTAMP() + ?, version = version + 1
  WHERE name = ? AND (holder = ? OR expires_at <= UNIX_TIMESTAMP())`;
const CREATE = 'INSERT IGNORE INTO memgate_lease (name, holder, expires_at, version) VALUES (?, ?, UNIX_TIMESTAMP() + ?, 1)';
const READ = 'SELECT holder, CAST(expires_at AS SIGNED) - UNIX_TIMESTAMP() AS secondsLeft FROM memgate_lease WHERE name = ?';
const RELEASE = `UPDATE memgate_lease SET expires_at = UNIX_TIMESTAMP() + ?, version = version + 1
  WHERE name = ? AND holder = ?`;

/** host:pid:random, unique per Lease object even within one process. */
export function leaseHolderId(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`.slice(-255);
}

/**
 * A named lease in memgate_lease, shared by every gateway and host on the database. It is
 * won by a single-row UPDATE whose WHERE matches only a free, expired or own lease, so
 * exactly one contender changes the row (on Galera the others fail certification and,
 * retried, no longer match); time is the database's UNIX_TIMESTAMP(). GET_LOCK is not used:
 * Galera does not replicate it and NDB does not share it between SQL nodes.
 */
export class Lease {
  constructor(
    private readonly pool: DatabasePool,
    private readonly logger: Logger,
    readonly name: string,
    readonly holder: string = leaseHolderId(),
  ) {}

  /** Takes or renews the lease for `seconds`. null when it is ours; otherwise who has it. */
  async take(seconds: number): Promise<LeaseHeld | null> {
    // Idempotent: run again after a broken connection, the UPDATE matches our own lease.
    return withRetry(this.pool, this.logger, 'idempotent', () => this.pool.withConnection(async (c) => {
      if (affectedRows(await c.execute(TAKE, [this.holder, seconds, this.name, this.holder])) === 1) return null;
      const held = await readLease(c, this.name);
      if (held) return held;
      // The first use of this name anywhere: whoever inserts the row has the lease.
      if (affectedRows(await c.execute(CREATE, [this.name, this.holder, seconds])) === 1) return null;
      return (await readLease(c, this.name))!;
    }));
  }

  /**
   * Lets the lease go `holdSeconds` from now (0: at once). Does nothing when the lease is no
   * longer ours.
   */
  async release(holdSeconds = 0): Promise<void> {
    await withRetry(this.pool, this.logger, 'idempotent', () => this.pool.withConnection(async (c) => {
      await c.execute(RELEASE, [holdSeconds, this.name, this.holder]);
    }));
  }
}

async function readLease(c: Connection, name: string): Promise<LeaseHeld | null> {
  const row = rowsOf<{ holder: string; secondsLeft: number | string }>(await c.execute(READ, [name]))[0];
  return row ? { holder: row.holder, secondsLeft: Math.max(0, Number(row.secondsLeft)) } : null;
}
