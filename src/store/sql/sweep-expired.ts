import type { Connection } from '../pool.js';
import { EXPIRED_SQL } from './expiry.js';
import { placeholders, quote } from './fragments.js';
import { affectedRows, rowsOf } from './results.js';

/** Where the walk through the expiry index stands: the last row handled. */
export interface SweepCursor {
  expiry: number;
  mkey: Buffer;
}

interface ExpiredRow {
  mkey: Buffer;
  expiry: number | string;
}

/**
 * The two statements of a sweep batch. `next` walks the expiry index in (expiry, mkey) order
 * from a cursor: a bounded range read that starts after the rows already handled, never a
 * table scan and never back over rows deleted (InnoDB keeps those in the index until purge).
 * Parameters: the least expiry (1: never-expiring rows are 0), the pass's "now", then the
 * cursor's expiry and key; rows: up to batchSize (mkey, expiry). `delete` removes by primary
 * key and judges expiry again inside the statement, on the row it locks: a row set, touched
 * or added again since `next` read it stays. Its IN list always holds batchSize keys (padded by
 * repeating one), so each is a single prepared statement; affectedRows: the rows deleted.
 */
export function sweepStatements(table: string, batchSize: number): { next: string; delete: string } {
  const t = quote(table);
  return {
    next: `SELECT mkey, expiry FROM ${t} FORCE INDEX (expiry_idx)
    WHERE expiry BETWEEN ? AND ? AND (expiry > ? OR mkey > ?)
    ORDER BY expiry, mkey LIMIT ${batchSize}`,
    delete: `DELETE FROM ${t} WHERE mkey IN (${placeholders(batchSize)}) AND ${EXPIRED_SQL}`,
  };
}

export function sweepRunners(table: string, batchSize: number) {
  const sql = sweepStatements(table, batchSize);
  return {
    /** the next expired rows after the cursor (expiry ≤ upTo), in index order */
    async nextExpired(c: Connection, from: SweepCursor, upTo: number): Promise<SweepCursor[]> {
      const rows = rowsOf<ExpiredRow>(await c.execute(sql.next, [Math.max(1, from.expiry), upTo, from.expiry, from.mkey]));
      return rows.map((row) => ({ expiry: Number(row.expiry), mkey: row.mkey }));
    },
    /** deletes those of the keys still expired; keys: batchSize of them (padded) */
    async deleteExpired(c: Connection, keys: Buffer[]): Promise<number> {
      return affectedRows(await c.execute(sql.delete, keys));
    },
  };
}
