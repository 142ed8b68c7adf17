import type { Connection } from '../pool.js';
import { databaseNow } from './database-clock.js';
import { LIVE_SQL } from './expiry.js';
import { perSize, placeholders, quote } from './fragments.js';
import { rowsOf } from './results.js';

/** A live item's row as the reads return it, with the database clock of the read. */
export interface ItemRow {
  mkey: Buffer;
  string_value: Buffer;
  flags: number;
  cas_value: string;
  expiry: number | string;
  item_state: number | string;
  accessed_at: number | string;
  now: number | string;
}

/**
 * The BIGINTs (cas_value, UNIX_TIMESTAMP()) come as text: the store wants text for them anyway,
 * and mysql2 builds text from a binary BIGINT by 64-bit division in JavaScript (long.js).
 */
const ITEM_COLUMNS = 'mkey, string_value, flags, CAST(cas_value AS CHAR) AS cas_value, expiry, item_state, accessed_at, '
  + 'CAST(UNIX_TIMESTAMP() AS CHAR) AS now';

/**
 * The live rows of n keys, the statement of every read; with lock, the rows stay locked until
 * the transaction ends (gat). The primary key is forced: the liveness test lets the optimizer
 * consider expiry_idx, which InnoDB extends to (expiry, mkey), and with it
 * `expiry = 0 AND mkey IN (…)` is one range per key that it estimates by looking each one up
 * ("index dives") before it settles on the primary key anyway.
 * Rows: one per live key found, none for a key missing or expired.
 */
export function selectItemsSql(table: string, n: number, lock = false): string {
  return `SELECT ${ITEM_COLUMNS}
    FROM ${quote(table)} FORCE INDEX (PRIMARY)
    WHERE mkey IN (${placeholders(n)}) AND ${LIVE_SQL}${lock ? ' FOR UPDATE' : ''}`;
}

/**
 * The live row of one key, locked until the transaction ends: the read of every
 * read-modify-write (incr/decr, meta commands). Rows: the item, or none.
 */
export function lockItemSql(table: string): string {
  return `SELECT ${ITEM_COLUMNS}
    FROM ${quote(table)}
    WHERE mkey = ? AND ${LIVE_SQL} FOR UPDATE`;
}

/** Rows: one when the key has a live item. */
function existsSql(table: string): string {
  return `SELECT 1 FROM ${quote(table)} WHERE mkey = ? AND ${LIVE_SQL}`;
}

/** Rows: the live item's CAS, or none. */
function liveCasSql(table: string): string {
  return `SELECT cas_value FROM ${quote(table)} WHERE mkey = ? AND ${LIVE_SQL}`;
}

export function readStatements(table: string) {
  const select = perSize((n) => selectItemsSql(table, n));
  const selectLocked = perSize((n) => selectItemsSql(table, n, true));
  const lockItem = lockItemSql(table);
  const exists = existsSql(table);
  const liveCas = liveCasSql(table);
  return {
    /** keys: one IN-list of a size from READ_KEY_COUNTS (batch-padding.ts keyBatches) */
    async selectItems(c: Connection, keys: Buffer[], lock: boolean): Promise<ItemRow[]> {
      return rowsOf<ItemRow>(await c.execute((lock ? selectLocked : select)(keys.length), keys));
    },
    async lockItem(c: Connection, key: Buffer): Promise<ItemRow | undefined> {
      return rowsOf<ItemRow>(await c.execute(lockItem, [key]))[0];
    },
    async exists(c: Connection, key: Buffer): Promise<boolean> {
      return rowsOf<unknown>(await c.execute(exists, [key])).length > 0;
    },
    async liveCas(c: Connection, key: Buffer): Promise<bigint | null> {
      const row = rowsOf<{ cas_value: string }>(await c.execute(liveCas, [key]))[0];
      return row ? BigInt(row.cas_value) : null;
    },
    /** the database clock */
    now: databaseNow,
  };
}
