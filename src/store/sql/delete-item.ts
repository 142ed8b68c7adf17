import type { Connection } from '../pool.js';
import { LIVE_SQL } from './expiry.js';
import { CAS, quote } from './fragments.js';
import { affectedRows } from './results.js';

/** delete: affectedRows 1 deleted, 0 no live item (an expired row is left to the sweeper). */
function deleteSql(table: string): string {
  return `DELETE FROM ${quote(table)} WHERE mkey = ? AND ${LIVE_SQL}`;
}

/** delete with a CAS: affectedRows 1 deleted, 0 no live item or it holds another CAS. */
function deleteCasSql(table: string): string {
  return `${deleteSql(table)} AND cas_value = ${CAS}`;
}

export function deleteStatements(table: string) {
  const plain = deleteSql(table);
  const withCas = deleteCasSql(table);
  return {
    /** true when deleted; with a CAS, only an item holding it */
    async deleteItem(c: Connection, key: Buffer, cas?: bigint): Promise<boolean> {
      const result = cas === undefined ? await c.execute(plain, [key]) : await c.execute(withCas, [key, cas.toString()]);
      return affectedRows(result) === 1;
    },
  };
}
