import { mapKey, type StoredItem } from './kv-store.js';
import type { ItemRow } from './sql/read-items.js';

/** An item as the store hands it out, from its row (BIGINT and DECIMAL columns may come as text). */
export function toItem(row: ItemRow): StoredItem {
  return {
    key: row.mkey,
    value: row.string_value,
    flags: Number(row.flags),
    cas: BigInt(row.cas_value),
    expiry: Number(row.expiry),
    accessedAt: Number(row.accessed_at),
    bits: Number(row.item_state),
    now: Number(row.now),
  };
}

/** Items by mapKey(key). */
export function toItems(rows: ItemRow[]): Map<string, StoredItem> {
  return new Map(rows.map((row) => [mapKey(row.mkey), toItem(row)]));
}
