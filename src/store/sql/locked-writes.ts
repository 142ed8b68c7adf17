import { expiryParams } from '../../model/item-rules.js';
import type { Connection } from '../pool.js';
import { cappedExpirySql } from './expiry.js';
import { CAS, NOW, quote } from './fragments.js';

// Writes of a read-modify-write: the row was read and locked by lockItem in the same
// transaction, so they need no liveness test. Their affectedRows is not read.

/** incr/decr: the new digits, a fresh CAS, the item's bits; with the 4th parameter 1, a new expiry. */
function writeCounterSql(table: string): string {
  return `UPDATE ${quote(table)}
    SET string_value = ?, cas_value = ${CAS}, item_state = ?, accessed_at = ${NOW},
      expiry = IF(?, ${cappedExpirySql(table)}, expiry)
    WHERE mkey = ?`;
}

/** A meta command's decision: each change is switched on by its own leading 0/1 parameter. */
function writeStateSql(table: string): string {
  return `UPDATE ${quote(table)}
    SET expiry = IF(?, ${cappedExpirySql(table)}, expiry), accessed_at = IF(?, ${NOW}, accessed_at),
      item_state = ?, cas_value = IF(?, ${CAS}, cas_value)
    WHERE mkey = ?`;
}

export function lockedWriteStatements(table: string) {
  const counter = writeCounterSql(table);
  const state = writeStateSql(table);
  return {
    /** with touch, the item gets exptime's expiry; otherwise its expiry stays */
    async writeCounter(
      c: Connection, input: { key: Buffer; digits: Buffer; cas: bigint; bits: number; touch: boolean; exptime?: number },
    ): Promise<void> {
      const { key, digits, cas, bits, touch, exptime } = input;
      await c.execute(counter, [digits, cas.toString(), bits, touch ? 1 : 0, ...expiryParams(exptime ?? 0), key]);
    },
    /** exptime undefined: the expiry stays; accessed: the access time becomes now; newCas: the item takes cas */
    async writeState(
      c: Connection, input: { key: Buffer; bits: number; exptime?: number; accessed: boolean; newCas: boolean; cas: bigint },
    ): Promise<void> {
      const { key, bits, exptime, accessed, newCas, cas } = input;
      await c.execute(state, [
        exptime === undefined ? 0 : 1, ...expiryParams(exptime ?? 0), accessed ? 1 : 0, bits,
        newCas ? 1 : 0, cas.toString(), key,
      ]);
    },
  };
}
