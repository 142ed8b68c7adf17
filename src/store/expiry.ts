import { REALTIME_MAXDELTA } from '../protocol/limits.js';

/**
 * memcached's exptime rules, resolved in SQL so the database clock is the one clock:
 * 0 never expires, up to 30 days is relative to now, larger is an absolute unix time, and
 * negative is already expired. The SQL fragment is `IF(?, UNIX_TIMESTAMP(), 0) + ?`; these are
 * its two parameters.
 */
export function expiryParams(exptime: number): [relative: number, seconds: number] {
  if (exptime === 0) return [0, 0];
  // 1 is a time in 1970: expired for every reader, yet distinct from 0 (never).
  if (exptime < 0) return [0, 1];
  if (exptime <= REALTIME_MAXDELTA) return [1, exptime];
  return [0, exptime];
}

export const EXPIRY_SQL = 'IF(?, UNIX_TIMESTAMP(), 0) + ?';

/**
 * The new expiry for a write, capped at a pending delayed flush_all: memcached hides at the
 * deadline every item written before it, including those written after the command. NULL
 * stands for "never" inside the expression so that LEAST picks the earlier real time.
 */
export function cappedExpirySql(table: string): string {
  const pendingFlush = `(SELECT flush_at FROM memgate_flush WHERE name = '${table}' AND flush_at > UNIX_TIMESTAMP())`;
  return `IFNULL(LEAST(IFNULL(NULLIF(${EXPIRY_SQL}, 0), ${pendingFlush}), IFNULL(${pendingFlush}, 4294967295)), 0)`;
}
export const LIVE_SQL = '(expiry = 0 OR expiry > UNIX_TIMESTAMP())';
export const EXPIRED_SQL = '(expiry <> 0 AND expiry <= UNIX_TIMESTAMP())';
