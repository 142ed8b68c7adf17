import { expiryParams } from '../../model/item-rules.js';
import { ItemBit } from '../kv-store.js';
import type { Connection } from '../pool.js';
import { LIVE_SQL, cappedExpirySql } from './expiry.js';
import { CAS, quote } from './fragments.js';
import { affectedRows } from './results.js';

/**
 * md I: the item stays, marked stale, with a fresh CAS and its recache token up for grabs
 * again; with an exptime (the first parameter 1) it also gets a new expiry.
 * affectedRows: 1 invalidated, 0 no live item (with a CAS: or it holds another one).
 */
function invalidateSql(table: string): string {
  return `UPDATE ${quote(table)}
    SET expiry = IF(?, ${cappedExpirySql(table)}, expiry),
      item_state = (item_state | ${ItemBit.stale}) & ~${ItemBit.tokenSent}, cas_value = ${CAS}
    WHERE mkey = ? AND ${LIVE_SQL}`;
}

export function invalidateStatements(table: string) {
  const plain = invalidateSql(table);
  const withCas = `${plain} AND cas_value = ${CAS}`;
  return {
    /** true when invalidated; exptime undefined keeps the expiry; with a CAS, only an item holding it */
    async invalidateItem(
      c: Connection, input: { key: Buffer; freshCas: bigint; exptime?: number; cas?: bigint },
    ): Promise<boolean> {
      const { key, freshCas, exptime, cas } = input;
      const head = [exptime === undefined ? 0 : 1, ...expiryParams(exptime ?? 0), freshCas.toString(), key];
      const result = cas === undefined
        ? await c.execute(plain, head)
        : await c.execute(withCas, [...head, cas.toString()]);
      return affectedRows(result) === 1;
    },
  };
}
