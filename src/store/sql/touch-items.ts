import { expiryParams } from '../../model/item-rules.js';
import { ItemBit } from '../kv-store.js';
import type { Connection } from '../pool.js';
import { LIVE_SQL, cappedExpirySql } from './expiry.js';
import { CAS, NOW, perSize, placeholders, quote } from './fragments.js';
import { affectedRows } from './results.js';

// Statements that leave the value alone and change when the item expires or how it was read.

/** A read: the first marks the item fetched, the second also records the access time. */
const BUMP = `accessed_at = IF(item_state & ${ItemBit.fetched}, ${NOW}, accessed_at),
      item_state = item_state | IF(item_state & ${ItemBit.fetched}, ${ItemBit.active}, ${ItemBit.fetched})`;

/**
 * touch: a new expiry, and the touch counts as a read. affectedRows: 1 touched; 0 no live
 * item, or nothing changed (the same expiry in the same second, on an item read twice).
 */
function touchSql(table: string): string {
  return `UPDATE ${quote(table)}
    SET expiry = ${cappedExpirySql(table)}, ${BUMP}
    WHERE mkey = ? AND ${LIVE_SQL}`;
}

/** gat on n keys whose live rows the same transaction read and locked; affectedRows not read. */
function touchManySql(table: string, n: number): string {
  return `UPDATE ${quote(table)}
    SET expiry = ${cappedExpirySql(table)}, ${BUMP}
    WHERE mkey IN (${placeholders(n)})`;
}

/**
 * Reads recorded by AccessRecorder, n (key, CAS) pairs: each marks the item version that was
 * read, and none that changed since. CAS values are unique across keys, so the pairs match
 * exactly. affectedRows not read.
 */
export function recordReadsSql(table: string, n: number): string {
  return `UPDATE ${quote(table)} FORCE INDEX (PRIMARY)
    SET ${BUMP}
    WHERE mkey IN (${placeholders(n)}) AND cas_value IN (${placeholders(n, CAS)})
      AND (item_state & ${ItemBit.active}) = 0 AND ${LIVE_SQL}`;
}

export function touchStatements(table: string) {
  const touch = touchSql(table);
  const touchMany = perSize((n) => touchManySql(table, n));
  const recordReads = perSize((n) => recordReadsSql(table, n));
  return {
    /** true when the row changed; false also for an unchanged one, so the caller checks it exists */
    async touchItem(c: Connection, key: Buffer, exptime: number): Promise<boolean> {
      return affectedRows(await c.execute(touch, [...expiryParams(exptime), key])) === 1;
    },
    /** keys: one IN-list of a size from READ_KEY_COUNTS */
    async touchItems(c: Connection, keys: Buffer[], exptime: number): Promise<void> {
      await c.execute(touchMany(keys.length), [...expiryParams(exptime), ...keys]);
    },
    /** reads: one IN-list of a size from READ_KEY_COUNTS */
    async recordReads(c: Connection, reads: Array<{ key: Buffer; cas: bigint }>): Promise<void> {
      await c.execute(recordReads(reads.length), [...reads.map((r) => r.key), ...reads.map((r) => r.cas.toString())]);
    },
  };
}
