import { FITS_AFTER_APPEND_SQL, appendRoom } from '../../model/item-rules.js';
import type { Connection } from '../pool.js';
import { LIVE_SQL } from './expiry.js';
import { CAS, NOW, quote } from './fragments.js';
import { affectedRows } from './results.js';

/**
 * append/prepend: the value grows at one end, the item gets a fresh CAS and starts over
 * (unread, no token, not stale), flags and expiry stay. memcached refuses (NOT_STORED) a
 * result over item_size_max, and with a CAS (binary protocol) an item holding another one.
 * affectedRows: 1 stored, 0 no live item, no room left, or another CAS.
 */
function concatSql(table: string, at: 'append' | 'prepend'): string {
  const value = at === 'append' ? 'CONCAT(string_value, ?)' : 'CONCAT(?, string_value)';
  return `UPDATE ${quote(table)}
    SET string_value = ${value}, cas_value = ${CAS}, item_state = 0, accessed_at = ${NOW}
    WHERE mkey = ? AND ${LIVE_SQL} AND ${FITS_AFTER_APPEND_SQL} AND ${CAS} IN (0, cas_value)`;
}

export function appendStatements(table: string, itemSizeMax: number) {
  const sql = { append: concatSql(table, 'append'), prepend: concatSql(table, 'prepend') };
  return {
    /** true when stored; token 0n: any CAS */
    async concatItem(
      c: Connection, at: 'append' | 'prepend', input: { key: Buffer; value: Buffer; cas: bigint; token: bigint },
    ): Promise<boolean> {
      const room = appendRoom(itemSizeMax, input.key.length, input.value.length);
      const params = [input.value, input.cas.toString(), input.key, room, input.token.toString()];
      return affectedRows(await c.execute(sql[at], params)) === 1;
    },
  };
}
