import type { Connection } from '../pool.js';
import { cappedExpirySql } from './expiry.js';
import { CAS, NOW, quote } from './fragments.js';
import { INSERT_COLUMNS, itemParams, UPSERT, type ItemValues } from './insert-item.js';
import { affectedRows } from './results.js';
import { lockHeldSql } from './session-locks.js';

/**
 * A plain set of a session's data that is written only while no connection holds the
 * session's lock: a late copy of an earlier request's write (a replica, a redundant server)
 * must not overwrite what the lock's holder read and is about to change. Reading the lock
 * table inside the statement keeps a lock from being taken between the check and the write.
 * Parameters: the item's (itemParams), the lock key, the liveness seconds twice.
 * affectedRows: 1 inserted, 2 replaced, 0 skipped (the lock is held).
 */
function setUnlessLockedSql(table: string, lockTable: string): string {
  return `INSERT INTO ${quote(table)} ${INSERT_COLUMNS}
    SELECT ?, ?, ?, ${CAS}, ?, ${NOW}, ${cappedExpirySql(table)} FROM DUAL
    WHERE NOT ${lockHeldSql(lockTable)}
    ${UPSERT}`;
}

export function setUnlessLockedStatement(table: string, lockTable: string, livenessSeconds: number) {
  const text = setUnlessLockedSql(table, lockTable);
  /** true when written, false when skipped because the lock is held */
  return async (c: Connection, item: ItemValues, lock: Buffer): Promise<boolean> =>
    affectedRows(await c.execute(text, [...itemParams(item), lock, livenessSeconds, livenessSeconds])) > 0;
}
