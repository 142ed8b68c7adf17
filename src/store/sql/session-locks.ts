import { EXPIRY_SQL, expiryParams } from '../../model/item-rules.js';
import type { Connection } from '../pool.js';
import { NOW, perSize, placeholders, quote } from './fragments.js';
import { affectedRows, rowsOf } from './results.js';

// Session locks: rows of the lock table (sql/innodb.sql, `kv_locks`), each owned by a gateway
// and one of its client connections. A lock is held while its row exists, has not expired and
// its gateway's heartbeat (memgate_gateways) is recent; otherwise the next taker takes it over.

/** Who holds a lock: a gateway and one of its client connections. */
export interface LockHolder {
  gateway: string;
  connection: number;
}

/** A held lock as a get shows it. */
export interface LockRow {
  lock_key: Buffer;
  lock_value: Buffer;
  flags: number | string;
}

const EXPIRED = `(expiry <> 0 AND expiry <= ${NOW})`;

/**
 * The lock is orphaned: its gateway has written no heartbeat for the liveness period (both
 * parameters: its seconds). A lock younger than that period is never orphaned: after a
 * database restart or a Galera writer failover, a gateway's first locks on the new node can
 * come before its first heartbeat there. A dead gateway's locks are still free within the
 * period of its death, since each was taken before it, and its last heartbeat too.
 */
const ORPHANED = `(acquired_at <= ${NOW} - ? AND owner NOT IN (
      SELECT gateway_id FROM memgate_gateways WHERE heartbeat_at > ${NOW} - ?))`;

const OWN = '(owner = ? AND conn_id = ?)';

/**
 * Takes a lock. A held lock is taken over only when it expired or its gateway is dead, and,
 * with `ownIsFree`, when the caller already holds it (a set refreshes its own lock; an add of a
 * lock the caller holds is refused, as memcached refuses an add of an existing key).
 * The takeover condition reads owner, conn_id and expiry, which the assignments change, so it
 * is evaluated once, in the first assignment, into a session variable the others read.
 * version changes on every take, so a refresh that changes nothing else still counts as one.
 * affectedRows: 1 taken, 2 taken over (or refreshed), 0 held by another.
 */
function takeSql(table: string, ownIsFree: boolean): string {
  const free = ownIsFree ? `(${EXPIRED} OR ${ORPHANED} OR ${OWN})` : `(${EXPIRED} OR ${ORPHANED})`;
  return `INSERT INTO ${quote(table)} (lock_key, lock_value, flags, owner, conn_id, acquired_at, expiry)
    VALUES (?, ?, ?, ?, ?, ${NOW}, ${EXPIRY_SQL})
    ON DUPLICATE KEY UPDATE
      acquired_at = IF((@memgate_take := ${free}), IF(${OWN}, acquired_at, VALUES(acquired_at)), acquired_at),
      lock_value = IF(@memgate_take, VALUES(lock_value), lock_value),
      flags = IF(@memgate_take, VALUES(flags), flags),
      owner = IF(@memgate_take, VALUES(owner), owner),
      conn_id = IF(@memgate_take, VALUES(conn_id), conn_id),
      expiry = IF(@memgate_take, VALUES(expiry), expiry),
      version = IF(@memgate_take, version + 1, version)`;
}

/** The holder's own lock, changed in place (replace, touch). affectedRows 1: it holds it. */
function updateOwnSql(table: string, set: string): string {
  return `UPDATE ${quote(table)} SET ${set}, version = version + 1
    WHERE lock_key = ? AND ${OWN} AND NOT ${EXPIRED}`;
}

/** A release: only the holder's row goes. affectedRows 1 released, 0 not held by the caller. */
function releaseSql(table: string): string {
  return `DELETE FROM ${quote(table)} WHERE lock_key = ? AND ${OWN}`;
}

/** Every lock of one client connection (it closed). affectedRows: how many. */
function releaseConnectionSql(table: string): string {
  return `DELETE FROM ${quote(table)} WHERE ${OWN}`;
}

/** Every lock of one gateway (it stops). */
function releaseGatewaySql(table: string): string {
  return `DELETE FROM ${quote(table)} WHERE owner = ?`;
}

/** Rows nobody holds any more: expired, or orphaned. */
function deleteFreeSql(table: string): string {
  return `DELETE FROM ${quote(table)} WHERE ${EXPIRED} OR ${ORPHANED}`;
}

/** The held locks among n keys. Parameters: the keys, then ORPHANED's. */
function readSql(table: string, n: number): string {
  return `SELECT lock_key, lock_value, flags FROM ${quote(table)}
    WHERE lock_key IN (${placeholders(n)}) AND NOT ${EXPIRED} AND NOT ${ORPHANED}`;
}

export function sessionLockStatements(table: string, livenessSeconds: number) {
  const take = takeSql(table, false);
  const takeOrRefresh = takeSql(table, true);
  const replace = updateOwnSql(table, `lock_value = ?, flags = ?, expiry = ${EXPIRY_SQL}`);
  const touch = updateOwnSql(table, `expiry = ${EXPIRY_SQL}`);
  const release = releaseSql(table);
  const releaseConnection = releaseConnectionSql(table);
  const releaseGateway = releaseGatewaySql(table);
  const deleteFree = deleteFreeSql(table);
  const read = perSize((n) => readSql(table, n));
  const own = (holder: LockHolder) => [holder.gateway, holder.connection];
  const liveness = [livenessSeconds, livenessSeconds];

  return {
    /**
     * add (ownIsFree false) or set (true) of a lock key: 'taken' when the caller holds the
     * lock now, 'taken_over' when it did so by replacing an expired or orphaned lock (or
     * refreshing its own), 'busy' when another connection holds it.
     */
    async take(
      c: Connection, key: Buffer, value: Buffer, flags: number, exptime: number, holder: LockHolder, ownIsFree: boolean,
    ): Promise<'taken' | 'taken_over' | 'busy'> {
      const free = ownIsFree ? [...liveness, ...own(holder)] : liveness;
      const params = [key, value, flags, ...own(holder), ...expiryParams(exptime), ...free, ...own(holder)];
      const affected = affectedRows(await c.execute(ownIsFree ? takeOrRefresh : take, params));
      return affected === 1 ? 'taken' : affected === 2 ? 'taken_over' : 'busy';
    },
    /** replace of a lock key by its holder: true when it holds the lock */
    async replace(c: Connection, key: Buffer, value: Buffer, flags: number, exptime: number, holder: LockHolder): Promise<boolean> {
      return affectedRows(await c.execute(replace, [value, flags, ...expiryParams(exptime), key, ...own(holder)])) === 1;
    },
    /** touch of a lock key by its holder: true when it holds the lock */
    async touch(c: Connection, key: Buffer, exptime: number, holder: LockHolder): Promise<boolean> {
      return affectedRows(await c.execute(touch, [...expiryParams(exptime), key, ...own(holder)])) === 1;
    },
    /** true when the caller held the lock and released it */
    async release(c: Connection, key: Buffer, holder: LockHolder): Promise<boolean> {
      return affectedRows(await c.execute(release, [key, ...own(holder)])) === 1;
    },
    /** how many locks the connection held */
    async releaseConnection(c: Connection, holder: LockHolder): Promise<number> {
      return affectedRows(await c.execute(releaseConnection, own(holder)));
    },
    async releaseGateway(c: Connection, gateway: string): Promise<number> {
      return affectedRows(await c.execute(releaseGateway, [gateway]));
    },
    /** deletes rows of expired locks and of dead gateways' locks; how many */
    async deleteFree(c: Connection): Promise<number> {
      return affectedRows(await c.execute(deleteFree, liveness));
    },
    /** the held locks among the keys (distinct keys) */
    async read(c: Connection, keys: Buffer[]): Promise<LockRow[]> {
      return rowsOf<LockRow>(await c.execute(read(keys.length), [...keys, ...liveness]));
    },
  };
}

export type SessionLockStatements = ReturnType<typeof sessionLockStatements>;
