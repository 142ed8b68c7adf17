import { expect } from 'chai';
import { DatabaseUnavailableError } from '../../../src/store/errors.js';
import { isPermanentConnectError } from '../../../src/store/mysql-errors.js';

const mysqlError = (code: string, errno?: number) => Object.assign(new Error(code), { code, errno });

describe('isPermanentConnectError', () => {
  it('is true for access denied, an unknown host or database, also wrapped as the pool reports them', () => {
    for (const error of [
      mysqlError('ER_ACCESS_DENIED_ERROR', 1045), mysqlError('ER_DBACCESS_DENIED_ERROR', 1044),
      mysqlError('ER_BAD_DB_ERROR', 1049), mysqlError('ENOTFOUND'), mysqlError('EAI_AGAIN'), { errno: 1698 },
      new DatabaseUnavailableError('database unavailable', { cause: mysqlError('ER_ACCESS_DENIED_ERROR', 1045) }),
    ]) {
      expect(isPermanentConnectError(error), JSON.stringify(error)).to.equal(true);
    }
  });

  it('is false for outages a retry may cure', () => {
    for (const error of [mysqlError('ECONNREFUSED'), mysqlError('ETIMEDOUT'), mysqlError('PROTOCOL_CONNECTION_LOST'),
      new DatabaseUnavailableError('database unavailable (no connection could be acquired in time)'), undefined, new Error('x')]) {
      expect(isPermanentConnectError(error), String(error)).to.equal(false);
    }
  });
});
