import { EXPIRY_SQL, expiryParams } from '../../model/item-rules.js';
import type { Connection } from '../pool.js';
import { quote } from './fragments.js';
import { rowsOf } from './results.js';

// flush_all: a deadline, recorded for writes racing with the flush, then every row expiring
// later (or never) set to expire at it, one range of keys at a time.

/** Keys per range: each range is one short statement with its own deadline. */
export const FLUSH_BATCH = 5000;

/** Rows: the deadline, now or now + delay by the exptime rule. */
function deadlineSql(delayed: boolean): string {
  return `SELECT ${delayed ? EXPIRY_SQL : 'UNIX_TIMESTAMP()'} AS deadline`;
}

/**
 * The deadline every later write of the table is capped at while it is pending; one without
 * delay records "now", which also cancels a pending delayed one, as in memcached.
 */
const RECORD_DEADLINE = `INSERT INTO memgate_flush (name, flush_at) VALUES (?, ?)
    ON DUPLICATE KEY UPDATE flush_at = VALUES(flush_at)`;

/** Rows: the last key of the next range (after the first parameter, when `after`), none when fewer keys are left. */
function rangeEndSql(table: string, after: boolean): string {
  return `SELECT mkey FROM ${quote(table)}${after ? ' WHERE mkey > ?' : ''}
    ORDER BY mkey LIMIT 1 OFFSET ${FLUSH_BATCH - 1}`;
}

/** Every row of the range expiring after the deadline, or never, expires at it; affectedRows not read. */
function hideRangeSql(table: string, after: boolean, upTo: boolean): string {
  const range = [after ? 'mkey > ?' : '', upTo ? 'mkey <= ?' : ''].filter(Boolean).join(' AND ');
  return `UPDATE ${quote(table)} SET expiry = ?
    WHERE (expiry = 0 OR expiry > ?)${range ? ` AND ${range}` : ''}`;
}

export function flushStatements(table: string) {
  const deadline = { now: deadlineSql(false), delayed: deadlineSql(true) };
  const rangeEnd = { first: rangeEndSql(table, false), next: rangeEndSql(table, true) };
  const hide = [[hideRangeSql(table, false, false), hideRangeSql(table, false, true)],
    [hideRangeSql(table, true, false), hideRangeSql(table, true, true)]] as const;
  return {
    /** records the deadline of a flush_all after `delay` (exptime rules; 0: now) and returns it */
    async recordFlush(c: Connection, delay: number): Promise<number> {
      const result = delay > 0 ? await c.execute(deadline.delayed, expiryParams(delay)) : await c.execute(deadline.now, []);
      const at = Number(rowsOf<{ deadline: number | string }>(result)[0]!.deadline);
      await c.execute(RECORD_DEADLINE, [table, at]);
      return at;
    },
    /**
     * Hides the rows of the range after `from` (null: from the first key) up to FLUSH_BATCH
     * keys; returns the range's last key, or null when it reached the end of the table.
     */
    async hideRange(c: Connection, deadlineAt: number, from: Buffer | null): Promise<Buffer | null> {
      const bounds = await c.execute(from ? rangeEnd.next : rangeEnd.first, from ? [from] : []);
      const last = rowsOf<{ mkey: Buffer }>(bounds)[0]?.mkey ?? null;
      await c.execute(hide[from ? 1 : 0][last ? 1 : 0], [
        deadlineAt, deadlineAt, ...(from ? [from] : []), ...(last ? [last] : []),
      ]);
      return last;
    },
  };
}
