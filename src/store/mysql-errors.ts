// The only place that knows MySQL/MariaDB error names: everything else branches on the class.

export type ErrorClass =
  /** the transaction was rolled back by the server (deadlock, lock wait): safe to run again */
  | 'rolled_back'
  /** the connection is gone or never came up: the statement may or may not have run */
  | 'connection'
  /** a duplicate key on insert */
  | 'duplicate'
  | 'other';

interface MysqlLikeError {
  code?: string;
  errno?: number;
  fatal?: boolean;
}

const ROLLED_BACK = new Set([
  'ER_LOCK_DEADLOCK', // 1213; also Galera certification failures
  'ER_LOCK_WAIT_TIMEOUT', // 1205
]);

const CONNECTION = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN', // 1053
  'ER_CON_COUNT_ERROR', // 1040 too many connections
  'ER_CONNECTION_KILLED', // 1927 (MariaDB)
  'ER_UNKNOWN_COM_ERROR', // 1047: Galera node not ready
  'ER_HOST_IS_BLOCKED', // 1129
]);

export function classifyMysqlError(error: unknown): ErrorClass {
  const e = (error ?? {}) as MysqlLikeError;
  if (e.code && ROLLED_BACK.has(e.code)) return 'rolled_back';
  if (e.code === 'ER_DUP_ENTRY') return 'duplicate';
  if ((e.code && CONNECTION.has(e.code)) || e.fatal === true) return 'connection';
  return 'other';
}

export function errorCode(error: unknown): string | undefined {
  return (error as MysqlLikeError | undefined)?.code;
}
