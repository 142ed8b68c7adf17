// The SQL of the session-lock designs that keep locks out of the item table (B and D): lock
// rows in a MEMORY table, which the redo log never sees, and a MEMORY table of gateway
// heartbeats that tells a live holder from a dead one. Candidates being measured, not schema.

export const LOCKS_TABLE = 'memgate_locks';
export const GATEWAYS_TABLE = 'memgate_gateways';

/** A gateway whose heartbeat is older than this is dead, and its locks are free. */
export const HEARTBEAT_LIMIT_SECONDS = 5;

export const LOCK_TABLES_DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS ${LOCKS_TABLE} (
    lock_key    VARBINARY(250)  NOT NULL,
    owner       VARCHAR(64)     NOT NULL,
    conn_id     BIGINT UNSIGNED NOT NULL,
    acquired_at INT UNSIGNED    NOT NULL,
    expiry      INT UNSIGNED    NOT NULL DEFAULT 0,
    PRIMARY KEY USING HASH (lock_key)
  ) ENGINE=MEMORY`,
  `CREATE TABLE IF NOT EXISTS ${GATEWAYS_TABLE} (
    gateway_id   VARCHAR(64)  NOT NULL,
    heartbeat_at INT UNSIGNED NOT NULL,
    PRIMARY KEY USING HASH (gateway_id)
  ) ENGINE=MEMORY`,
];

const EXPIRED = '(expiry <> 0 AND expiry <= UNIX_TIMESTAMP())';

/** The holder's gateway has not written a heartbeat lately (one uncorrelated subquery). */
const OWNER_DEAD = `owner NOT IN (SELECT gateway_id FROM ${GATEWAYS_TABLE} WHERE heartbeat_at > UNIX_TIMESTAMP() - ${HEARTBEAT_LIMIT_SECONDS})`;

/**
 * add of a lock key. Parameters: key, owner gateway id, connection id, exptime, exptime
 * (seconds from now, 0 = never). A held lock is left alone unless it expired or, with
 * liveness, its gateway is dead: then it is taken over. The condition reads owner and expiry,
 * which the assignments change, so it is evaluated once, in the first assignment, into a
 * session variable that the others read.
 * affectedRows: 1 taken, 2 taken over, 0 busy.
 */
export function takeLockSql(liveness: boolean): string {
  const free = liveness ? `(${EXPIRED} OR ${OWNER_DEAD})` : EXPIRED;
  return `INSERT INTO ${LOCKS_TABLE} (lock_key, owner, conn_id, acquired_at, expiry)
    VALUES (?, ?, ?, UNIX_TIMESTAMP(), IF(? = 0, 0, UNIX_TIMESTAMP() + ?))
    ON DUPLICATE KEY UPDATE
      acquired_at = IF((@memgate_take := ${free}), VALUES(acquired_at), acquired_at),
      owner = IF(@memgate_take, VALUES(owner), owner),
      conn_id = IF(@memgate_take, VALUES(conn_id), conn_id),
      expiry = IF(@memgate_take, VALUES(expiry), expiry)`;
}

/** delete of a lock key: only its holder's. Parameters: key, owner, connection id. affectedRows 1 released. */
export const RELEASE_LOCK_SQL = `DELETE FROM ${LOCKS_TABLE} WHERE lock_key = ? AND owner = ? AND conn_id = ?`;

/** A gateway's heartbeat. Parameter: its id. */
export const HEARTBEAT_SQL = `INSERT INTO ${GATEWAYS_TABLE} (gateway_id, heartbeat_at) VALUES (?, UNIX_TIMESTAMP())
    ON DUPLICATE KEY UPDATE heartbeat_at = VALUES(heartbeat_at)`;
