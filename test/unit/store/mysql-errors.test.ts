import { expect } from 'chai';
import { DatabaseUnavailableError } from '../../../src/store/errors.js';
import { classifyMysqlError, isPermanentConnectError, refusedBeforeRunning } from '../../../src/store/mysql-errors.js';

/** An error shaped as mysql2 delivers it: its code name (when mysql2 has one), errno and fatal flag. */
const serverError = (code: string | undefined, errno: number, fatal = false) =>
  Object.assign(new Error(`server error ${errno}`), { code, errno, fatal, sqlState: 'HY000' });
const ndbError = (code: string, errno: number, message: string) => Object.assign(new Error(message), { code, errno, fatal: false });
const networkError = (code: string, fatal = true) => Object.assign(new Error(code), { code, fatal });

describe('classifyMysqlError', () => {
  const cases: Array<[string, unknown, string]> = [
    ['1213 deadlock / Galera certification failure', serverError('ER_LOCK_DEADLOCK', 1213), 'rolled_back'],
    ['1205 lock wait timeout (also NDB lock conflicts)', serverError('ER_LOCK_WAIT_TIMEOUT', 1205), 'rolled_back'],
    ['1297 NDB temporary error', serverError('ER_GET_TEMPORARY_ERRMSG', 1297), 'rolled_back'],
    ['1047 Galera node not ready', serverError('ER_UNKNOWN_COM_ERROR', 1047), 'node_not_ready'],
    ['1290 --read-only', serverError('ER_OPTION_PREVENTS_STATEMENT', 1290), 'node_not_ready'],
    ['1836 read-only mode', serverError('ER_READ_ONLY_MODE', 1836), 'node_not_ready'],
    ['1180 error during commit', serverError('ER_ERROR_DURING_COMMIT', 1180), 'unknown_outcome'],
    ['1969 MariaDB max_statement_time exceeded', serverError(undefined, 1969), 'rolled_back'],
    ['3024 MySQL max_execution_time exceeded', serverError('ER_QUERY_TIMEOUT', 3024), 'rolled_back'],
    ['1062 duplicate key (NDB: two upserts creating one key; the transaction was aborted)', serverError('ER_DUP_ENTRY', 1062), 'rolled_back'],
    ['1296 NDB 4009 cluster failure', ndbError('ER_GET_ERRMSG', 1296, "Got error 4009 'Cluster Failure' from NDBCLUSTER"), 'node_not_ready'],
    ['1030 NDB 157 no connection to the storage engine', ndbError('ER_GET_ERRNO', 1030, "Got error 157 'Could not connect to storage engine' from NDBCLUSTER"), 'node_not_ready'],
    ['1296 NDB 4012 request timed out, outcome unknown', ndbError('ER_GET_ERRMSG', 1296, "Got error 4012 'Request ndbd time-out, maybe due to high load or communication problems' from NDBCLUSTER"), 'unknown_outcome'],
    ['1296 NDB 4008 failure to receive', ndbError('ER_GET_ERRMSG', 1296, "Got error 4008 'Receive from NDB failed' from NDBCLUSTER"), 'unknown_outcome'],
    ['1296 another NDB error', ndbError('ER_GET_ERRMSG', 1296, "Got error 626 'Tuple did not exist' from NDBCLUSTER"), 'other'],
    ['1053 server shutdown', serverError('ER_SERVER_SHUTDOWN', 1053, true), 'connection'],
    ['1040 too many connections', serverError('ER_CON_COUNT_ERROR', 1040, true), 'connection'],
    ['1927 MariaDB connection killed (no mysql2 name)', serverError(undefined, 1927), 'connection'],
    ['4031 MySQL inactivity disconnect', serverError('ER_CLIENT_INTERACTION_TIMEOUT', 4031), 'connection'],
    ['connection refused', networkError('ECONNREFUSED'), 'connection'],
    ['unix socket of a stopped server', networkError('ENOENT'), 'connection'],
    ['connection reset', networkError('ECONNRESET'), 'connection'],
    ['connect timeout', networkError('ETIMEDOUT'), 'connection'],
    ['connection lost mid-statement', networkError('PROTOCOL_CONNECTION_LOST'), 'connection'],
    ['any fatal mysql2 error', networkError('SOMETHING_NEW'), 'connection'],
    ['1146 no such table', serverError('ER_NO_SUCH_TABLE', 1146), 'other'],
    ['1064 syntax error', serverError('ER_PARSE_ERROR', 1064), 'other'],
    ['a plain Error', new Error('boom'), 'other'],
    ['undefined', undefined, 'other'],
  ];
  for (const [name, error, expected] of cases) {
    it(`${name} -> ${expected}`, () => {
      expect(classifyMysqlError(error)).to.equal(expected);
    });
  }

  it('classifies by errno when the code name is missing', () => {
    expect(classifyMysqlError({ errno: 1213 })).to.equal('rolled_back');
    expect(classifyMysqlError({ errno: 1047 })).to.equal('node_not_ready');
    expect(classifyMysqlError({ errno: 1180 })).to.equal('unknown_outcome');
  });

  it('tells a read-only refusal (ran nothing) from node errors that may cut a commit short', () => {
    expect(refusedBeforeRunning(serverError('ER_OPTION_PREVENTS_STATEMENT', 1290))).to.equal(true);
    expect(refusedBeforeRunning(serverError('ER_READ_ONLY_MODE', 1836))).to.equal(true);
    expect(refusedBeforeRunning(serverError('ER_UNKNOWN_COM_ERROR', 1047))).to.equal(false);
    expect(refusedBeforeRunning(ndbError('ER_GET_ERRMSG', 1296, "Got error 4009 'Cluster Failure' from NDBCLUSTER"))).to.equal(false);
  });
});

describe('isPermanentConnectError', () => {
  it('is true for access denied, an unknown host or database, also wrapped as the pool reports them', () => {
    for (const error of [
      serverError('ER_ACCESS_DENIED_ERROR', 1045), serverError('ER_DBACCESS_DENIED_ERROR', 1044),
      serverError('ER_BAD_DB_ERROR', 1049), networkError('ENOTFOUND'), networkError('EAI_AGAIN'), { errno: 1698 },
      new DatabaseUnavailableError('database unavailable', { cause: serverError('ER_ACCESS_DENIED_ERROR', 1045) }),
    ]) {
      expect(isPermanentConnectError(error), JSON.stringify(error)).to.equal(true);
    }
  });

  it('is false for outages a retry may cure', () => {
    for (const error of [networkError('ECONNREFUSED'), networkError('ETIMEDOUT'), networkError('PROTOCOL_CONNECTION_LOST'),
      new DatabaseUnavailableError('database unavailable (no connection could be acquired in time)'), undefined, new Error('x')]) {
      expect(isPermanentConnectError(error), String(error)).to.equal(false);
    }
  });
});
