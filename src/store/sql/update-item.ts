import { expiryParams } from '../../model/item-rules.js';
import { ItemBit } from '../kv-store.js';
import type { Connection } from '../pool.js';
import { LIVE_SQL, cappedExpirySql } from './expiry.js';
import { CAS, NOW, quote } from './fragments.js';
import type { ItemValues } from './insert-item.js';
import { affectedRows } from './results.js';

// Writes of a new value over a live item: replace, and cas with and without invalidate (ms I).

/** replace: affectedRows 1 stored, 0 no live item. */
function replaceSql(table: string): string {
  return `UPDATE ${quote(table)}
    SET string_value = ?, flags = ?, cas_value = ${CAS}, item_state = ?, accessed_at = ${NOW},
      expiry = ${cappedExpirySql(table)}
    WHERE mkey = ? AND ${LIVE_SQL}`;
}

/** cas: affectedRows 1 stored, 0 no live item or it holds another CAS. */
function casSql(table: string): string {
  return `${replaceSql(table)} AND cas_value = ${CAS}`;
}

/**
 * ms I: a matching CAS stores as usual; an older one stores too but keeps the exptime and the
 * recache token, and marks the item stale. In UPDATE, assignments run left to right and later
 * ones see earlier results, so cas_value, which the conditions read, is assigned last.
 * affectedRows: 1 stored, 0 no live item or it holds a newer CAS.
 */
function casOrStaleSql(table: string): string {
  return `UPDATE ${quote(table)}
    SET string_value = ?, flags = ?,
      expiry = IF(cas_value = ${CAS}, ${cappedExpirySql(table)}, expiry),
      item_state = IF(cas_value = ${CAS}, ?, ? | (item_state & ${ItemBit.tokenSent})),
      accessed_at = ${NOW}, cas_value = ${CAS}
    WHERE mkey = ? AND ${LIVE_SQL} AND cas_value >= ${CAS}`;
}

export function updateStatements(table: string) {
  const replace = replaceSql(table);
  const cas = casSql(table);
  const casOrStale = casOrStaleSql(table);
  return {
    /** true when stored */
    async replaceItem(c: Connection, item: ItemValues): Promise<boolean> {
      const params = [item.value, item.flags, item.cas.toString(), item.bits, ...expiryParams(item.exptime), item.key];
      return affectedRows(await c.execute(replace, params)) === 1;
    },
    /** true when stored: the live item held `token` */
    async casItem(c: Connection, item: ItemValues, token: bigint): Promise<boolean> {
      const params = [
        item.value, item.flags, item.cas.toString(), item.bits, ...expiryParams(item.exptime), item.key, token.toString(),
      ];
      return affectedRows(await c.execute(cas, params)) === 1;
    },
    /** true when stored: the live item held `token` or an older CAS (then it is stale now) */
    async casOrStaleItem(c: Connection, item: ItemValues, token: bigint): Promise<boolean> {
      const t = token.toString();
      const params = [
        item.value, item.flags, t, ...expiryParams(item.exptime), t, item.bits, item.bits | ItemBit.stale,
        item.cas.toString(), item.key, t,
      ];
      return affectedRows(await c.execute(casOrStale, params)) === 1;
    },
  };
}
