import type { Connection } from '../pool.js';
import { PENDING_FLUSH_VAR, cappedExpirySql, pendingFlushSet } from './expiry.js';
import { CAS, NOW, perSize, quote } from './fragments.js';
import { INSERT_COLUMNS, UPSERT, itemParams, type ItemValues } from './insert-item.js';

/**
 * Plain sets of several clients as one multi-row upsert of n rows (n from SET_ROW_COUNTS).
 * Rows for one key apply in the order given, so the last one wins. The first row reads the
 * pending flush_all once (its accessed_at is now either way), every row caps its expiry with
 * what it read. affectedRows: 1 per row inserted, 2 per row replaced; not read.
 */
export function setManySql(table: string, n: number): string {
  const expiry = cappedExpirySql(table, PENDING_FLUSH_VAR);
  const firstRow = `(?, ?, ?, ${CAS}, ?, IF(${pendingFlushSet(table)} IS NULL, ${NOW}, ${NOW}), ${expiry})`;
  const row = `(?, ?, ?, ${CAS}, ?, ${NOW}, ${expiry})`;
  return `INSERT INTO ${quote(table)} ${INSERT_COLUMNS}
    VALUES ${[firstRow, ...new Array<string>(n - 1).fill(row)].join(', ')}
    ${UPSERT}`;
}

export function setManyStatement(table: string) {
  const sql = perSize((n) => setManySql(table, n));
  return {
    /** rows: one statement's rows, padded to a size from SET_ROW_COUNTS (batch-padding.ts) */
    async setMany(c: Connection, rows: ItemValues[]): Promise<void> {
      await c.execute(sql(rows.length), rows.flatMap(itemParams));
    },
  };
}
