import { expiryParams } from '../../model/item-rules.js';
import type { Connection } from '../pool.js';
import { EXPIRED_SQL, cappedExpirySql } from './expiry.js';
import { CAS, NOW, quote } from './fragments.js';
import { affectedRows } from './results.js';

/** A whole item to write: a new value starts the item over (bits: ItemBit.binaryKey or 0). */
export interface ItemValues {
  key: Buffer;
  value: Buffer;
  flags: number;
  cas: bigint;
  bits: number;
  exptime: number;
}

/** The parameters of one VALUES row, in the column order of INSERT_COLUMNS. */
export function itemParams(item: ItemValues): unknown[] {
  return [item.key, item.value, item.flags, item.cas.toString(), item.bits, ...expiryParams(item.exptime)];
}

export const INSERT_COLUMNS = '(mkey, string_value, flags, cas_value, item_state, accessed_at, expiry)';

/** Every column of the row takes the inserted row's value. */
export const UPSERT = `ON DUPLICATE KEY UPDATE
      string_value = VALUES(string_value), flags = VALUES(flags), cas_value = VALUES(cas_value),
      item_state = VALUES(item_state), accessed_at = VALUES(accessed_at), expiry = VALUES(expiry)`;

function insertSql(table: string): string {
  return `INSERT INTO ${quote(table)} ${INSERT_COLUMNS}
    VALUES (?, ?, ?, ${CAS}, ?, ${NOW}, ${cappedExpirySql(table)})`;
}

/** set: the row is written whatever was there. affectedRows: 1 inserted, 2 replaced. */
export function setItemSql(table: string): string {
  return `${insertSql(table)}
    ${UPSERT}`;
}

/**
 * add: a live row is left alone; an expired one is overwritten as if absent. In ON DUPLICATE
 * KEY UPDATE, assignments run left to right and later ones see earlier results, so expiry,
 * which every condition reads, is assigned last.
 * affectedRows: 1 inserted, 2 replaced an expired row, 0 a live row was left alone.
 */
export function addItemSql(table: string): string {
  const ifExpired = (column: string) => `${column} = IF(${EXPIRED_SQL}, VALUES(${column}), ${column})`;
  const columns = ['string_value', 'flags', 'cas_value', 'item_state', 'accessed_at', 'expiry'];
  return `${insertSql(table)}
    ON DUPLICATE KEY UPDATE ${columns.map(ifExpired).join(', ')}`;
}

export function insertStatements(table: string) {
  const set = setItemSql(table);
  const add = addItemSql(table);
  return {
    async setItem(c: Connection, item: ItemValues): Promise<void> {
      await c.execute(set, itemParams(item));
    },
    /** true when the item was stored (no live item had the key) */
    async addItem(c: Connection, item: ItemValues): Promise<boolean> {
      return affectedRows(await c.execute(add, itemParams(item))) > 0;
    },
  };
}
