import { EXPIRY_SQL } from '../../model/item-rules.js';

// Expiry as the statements test and write it: whether a row is live, and a new expiry capped at
// a pending delayed flush_all. The exptime rule itself (EXPIRY_SQL) lives in model/item-rules.ts.

/** A row is live when it never expires or expires later than now. */
export const LIVE_SQL = '(expiry = 0 OR expiry > UNIX_TIMESTAMP())';
export const EXPIRED_SQL = '(expiry <> 0 AND expiry <= UNIX_TIMESTAMP())';

/** The deadline of a pending delayed flush_all of the table, NULL when none is pending. */
export function pendingFlushSql(table: string): string {
  return `(SELECT flush_at FROM memgate_flush WHERE name = '${table}' AND flush_at > UNIX_TIMESTAMP())`;
}

/**
 * The new expiry for a write (parameters: expiryParams(exptime)), capped at a pending delayed
 * flush_all: memcached hides at the deadline every item written before it, including those
 * written after the command. NULL stands for "never" inside the expression so that LEAST picks
 * the earlier real time. pendingFlush is the deadline (NULL: none); by default a subquery, run
 * twice per use.
 */
export function cappedExpirySql(table: string, pendingFlush = pendingFlushSql(table)): string {
  return `IFNULL(LEAST(IFNULL(NULLIF(${EXPIRY_SQL}, 0), ${pendingFlush}), IFNULL(${pendingFlush}, 4294967295)), 0)`;
}

/**
 * For statements writing many rows: the deadline read once per statement into a session
 * variable (pendingFlushSet, evaluated in the first row before any expiry), then used by
 * every row (PENDING_FLUSH_VAR). Per row, the two subqueries cost more than the row itself.
 * MariaDB and MySQL evaluate the rows of INSERT … VALUES in order, one row's columns left
 * to right. (MySQL 8 warns that assignments inside expressions are deprecated; they work.)
 */
export const PENDING_FLUSH_VAR = 'CAST(@memgate_flush_at AS UNSIGNED)';
export function pendingFlushSet(table: string): string {
  return `(@memgate_flush_at := ${pendingFlushSql(table)})`;
}
