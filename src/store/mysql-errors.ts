// The only place that knows MySQL/MariaDB/Galera/NDB error names: everything else branches on
// the class.

export type ErrorClass =
  /** the server rolled the transaction back (deadlock, certification failure, lock wait, NDB
   *  temporary error): nothing took effect, any command may run again */
  | 'rolled_back'
  /** the node cannot serve (Galera not ready, read-only, NDB cluster failure): it should get no
   *  more work until it is healthy again. A read-only refusal ran nothing; the others may cut a
   *  commit short, so the session decides (see refusedBeforeRunning) */
  | 'node_not_ready'
  /** the connection is gone or never came up: whether the statement ran depends on whether it
   *  was sent, which only the session knows */
  | 'connection'
  /** the server reported a failure at commit that may or may not have kept the transaction */
  | 'unknown_outcome'
  | 'other';

interface MysqlLikeError {
  code?: string;
  errno?: number;
  fatal?: boolean;
  message?: string;
}

const ROLLED_BACK = new Map<string, number>([
  ['ER_LOCK_DEADLOCK', 1213], // InnoDB deadlock; Galera certification failure and brute-force abort
  ['ER_LOCK_WAIT_TIMEOUT', 1205], // InnoDB lock wait; NDB lock conflicts (it has no deadlock detector)
  ['ER_GET_TEMPORARY_ERRMSG', 1297], // NDB "Got temporary error N from NDBCLUSTER": the transaction was aborted
  // memgate only inserts through upserts and INSERT IGNORE, which InnoDB never fails with a
  // duplicate; NDB does when two connections create one key at once (both read "no row"), and
  // then aborts the loser's whole transaction (MySQL bug #32656), so it may run again.
  ['ER_DUP_ENTRY', 1062],
  // The server's own statement time limit, which memgate sets below db.statementTimeoutMs so
  // that a slow statement is stopped by the server rather than abandoned while it still runs.
  ['ER_STATEMENT_TIMEOUT', 1969], // MariaDB max_statement_time; mysql2 has no name for it
  ['ER_QUERY_TIMEOUT', 3024], // MySQL max_execution_time
]);

const NODE_NOT_READY = new Map<string, number>([
  ['ER_UNKNOWN_COM_ERROR', 1047], // Galera: "WSREP has not yet prepared node for application use"
]);

/** the node refuses writes before running them */
const READ_ONLY = new Map<string, number>([
  ['ER_OPTION_PREVENTS_STATEMENT', 1290], // --read-only (a replica, or a node being drained)
  ['ER_READ_ONLY_MODE', 1836],
]);

const UNKNOWN_OUTCOME = new Map<string, number>([
  ['ER_ERROR_DURING_COMMIT', 1180],
]);

/** server errors that end the session: the statement may or may not have run */
const CONNECTION_ENDED = new Map<string, number>([
  ['ER_SERVER_SHUTDOWN', 1053],
  ['ER_CON_COUNT_ERROR', 1040], // too many connections
  ['ER_CONNECTION_KILLED', 1927], // MariaDB; mysql2 has no name for it, so it arrives as errno only
  ['ER_HOST_IS_BLOCKED', 1129],
  ['ER_CLIENT_INTERACTION_TIMEOUT', 4031], // MySQL 8: closed for inactivity
]);

/** client-side network failures, named by Node or mysql2 */
const CONNECTION = new Set([
  'ECONNREFUSED',
  // a unix socket whose server is down: the server removes the file when it stops
  'ENOENT',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
]);

function inMap(map: Map<string, number>, e: MysqlLikeError): boolean {
  if (e.code !== undefined && map.has(e.code)) return true;
  if (e.errno === undefined) return false;
  for (const errno of map.values()) if (errno === e.errno) return true;
  return false;
}

// Cluster failure: the SQL node lost the data nodes (NDB lists 4009 as "unknown result", so
// whether a change sent before it applied is not known; the session decides).
const NDB_NODE_NOT_READY = [4009, 157];
const NDB_UNKNOWN_OUTCOME = [4008, 4012]; // no answer from the cluster: the commit may have happened

/**
 * NDB reports its own errors inside MySQL's 1296 ("Got error N 'text' from NDBCLUSTER") and
 * 1030 ("Got error N from storage engine"): the inner number decides.
 */
function ndbError(e: MysqlLikeError): number | null {
  if (e.errno !== 1296 && e.errno !== 1030) return null;
  const inner = /\bGot (?:temporary )?error (\d+)/.exec(e.message ?? '');
  return inner ? Number(inner[1]) : null;
}

export function classifyMysqlError(error: unknown): ErrorClass {
  const e = (error ?? {}) as MysqlLikeError;
  const ndb = ndbError(e);
  if (ndb !== null && NDB_NODE_NOT_READY.includes(ndb)) return 'node_not_ready';
  if (ndb !== null && NDB_UNKNOWN_OUTCOME.includes(ndb)) return 'unknown_outcome';
  if (inMap(ROLLED_BACK, e)) return 'rolled_back';
  if (inMap(NODE_NOT_READY, e) || inMap(READ_ONLY, e)) return 'node_not_ready';
  if (inMap(UNKNOWN_OUTCOME, e)) return 'unknown_outcome';
  if ((e.code && CONNECTION.has(e.code)) || inMap(CONNECTION_ENDED, e) || e.fatal === true) return 'connection';
  return 'other';
}

/**
 * A node_not_ready error that refuses a statement before running it (read-only), as opposed
 * to one that may interrupt a commit under way (Galera 1047, NDB cluster failure).
 */
export function refusedBeforeRunning(error: unknown): boolean {
  return inMap(READ_ONLY, (error ?? {}) as MysqlLikeError);
}

/**
 * The server has no such system variable (MySQL has no max_statement_time): a session setting
 * that only some servers know is skipped on the others.
 */
export function isUnknownSystemVariable(error: unknown): boolean {
  return inMap(UNKNOWN_SYSTEM_VARIABLE, (error ?? {}) as MysqlLikeError);
}

const UNKNOWN_SYSTEM_VARIABLE = new Map<string, number>([['ER_UNKNOWN_SYSTEM_VARIABLE', 1193]]);

/** The error's name (mysql2's code, or Node's for a network error), for logs and messages. */
export function errorCode(error: unknown): string | undefined {
  return (error as MysqlLikeError | undefined)?.code;
}

/** Refusals that no retry will cure: the credentials, the host name or the database name are wrong. */
const PERMANENT_CONNECT = new Map<string, number>([
  ['ER_ACCESS_DENIED_ERROR', 1045], // wrong user or password
  ['ER_DBACCESS_DENIED_ERROR', 1044], // the user may not use this database
  ['ER_ACCESS_DENIED_NO_PASSWORD_ERROR', 1698], // MariaDB: a unix_socket user (root) over TCP
  ['ER_HOST_NOT_PRIVILEGED', 1130], // the user may not connect from this host
  ['ER_BAD_DB_ERROR', 1049], // unknown database
]);

/** getaddrinfo failures: the host name does not resolve (EAI_AGAIN also when DNS is unreachable). */
const UNKNOWN_HOST = new Set(['ENOTFOUND', 'EAI_AGAIN']);

/** The code db-tls.ts gives a refused certificate, or a server without TLS under a mode that needs it. */
export const TLS_REFUSED = 'DB_TLS_REFUSED';

// A TLS handshake cut by the network is an outage, retried like any other; mysql2 gives every
// handshake failure the same code, so the message tells them apart.
const NETWORK_FAILURE = /ECONNRESET|EPIPE|ETIMEDOUT|socket hang up|socket disconnected/i;

/** How mysql2 failed to open TLS: the server offers none, it refused (a certificate), or the network cut it. */
export function tlsFailure(error: unknown): 'not_offered' | 'refused' | null {
  const e = (error ?? {}) as MysqlLikeError;
  if (e.code === 'HANDSHAKE_NO_SSL_SUPPORT') return 'not_offered';
  if (e.code === 'HANDSHAKE_SSL_ERROR' && !NETWORK_FAILURE.test(e.message ?? '')) return 'refused';
  return null;
}

/**
 * Whether a failure to connect is a configuration mistake rather than an outage: access denied,
 * an unknown host, an unknown database or a refused TLS certificate. Looks through wrapping errors' causes.
 */
export function isPermanentConnectError(error: unknown): boolean {
  for (let e = error as (MysqlLikeError & { cause?: unknown }) | undefined, depth = 0; e && depth < 8; e = e.cause as typeof e, depth++) {
    if (inMap(PERMANENT_CONNECT, e) || (e.code !== undefined && UNKNOWN_HOST.has(e.code)) || e.code === TLS_REFUSED) return true;
  }
  return false;
}
