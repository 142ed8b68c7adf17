import { availableParallelism } from 'node:os';
import { expect } from 'chai';
import { helpText } from '../../../src/cli/help.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { configFiles } from '../../helpers/config-files.js';

describe('settings of workers and TLS to the database', () => {
  const file = configFiles();

  it('default to one worker and no TLS', () => {
    const config = loadConfig({ env: {} });
    expect(config.workers.count).to.equal(1);
    expect(config.db).to.include({ sslMode: 'disabled', sslCa: '', sslCert: '', sslKey: '' });
  });

  it('take workers as a number or auto, by flag, environment and file', () => {
    expect(loadConfig({ argv: ['--workers', '3'], env: {} }).workers.count).to.equal(3);
    expect(loadConfig({ argv: ['--workers=auto'], env: {} }).workers.count).to.equal(availableParallelism());
    expect(loadConfig({ env: { MEMGATE_WORKERS: 'auto' } }).workers.count).to.equal(availableParallelism());
    expect(loadConfig({ file: file({ workers: { count: 2 } }), env: {} }).workers.count).to.equal(2);
    expect(loadConfig({ file: file({ workers: { count: 'auto' } }), env: {} }).workers.count).to.equal(availableParallelism());
  });

  it('take the TLS settings by flag, environment and file', () => {
    const byFlag = loadConfig({ argv: ['--db-ssl-mode', 'verify-identity', '--db-ssl-ca', '/ca.pem', '--db-ssl-cert', '/c.pem', '--db-ssl-key', '/k.pem'], env: {} });
    expect(byFlag.db).to.include({ sslMode: 'verify-identity', sslCa: '/ca.pem', sslCert: '/c.pem', sslKey: '/k.pem' });
    expect(loadConfig({ env: { MEMGATE_DB_SSL_MODE: 'required', MEMGATE_DB_SSL_CA: '/x.pem' } }).db).to.include({ sslMode: 'required', sslCa: '/x.pem' });
    expect(loadConfig({ file: file({ db: { sslMode: 'verify-ca', sslCa: '/y.pem' } }), env: {} }).db).to.include({ sslMode: 'verify-ca', sslCa: '/y.pem' });
  });

  it('refuse bad values naming the setting as given and its other names', () => {
    expect(() => loadConfig({ argv: ['--workers', '0'], env: {} })).to.throw('--workers 0: not a whole number of at least 1, or auto [workers.count, MEMGATE_WORKERS]');
    expect(() => loadConfig({ env: { MEMGATE_WORKERS: 'many' } })).to.throw('MEMGATE_WORKERS=many: not a whole number of at least 1, or auto [workers.count, --workers]');
    expect(() => loadConfig({ argv: ['--db-ssl-mode', 'require'], env: {} })).to.throw('--db-ssl-mode require: not one of: disabled, preferred, required, verify-ca, verify-identity [db.sslMode, MEMGATE_DB_SSL_MODE]');
    const bad = file({ db: { url: 'mysql://u:p@h/db?ssl-mode=verify' } });
    expect(() => loadConfig({ file: bad, env: {} })).to.throw(`db.url in ${bad}: db.url: ssl-mode verify is not one of`);
  });

  it('are described in --help', () => {
    const help = helpText();
    for (const flag of ['--workers <n|auto>', '--db-ssl-mode', '--db-ssl-ca <path>', '--db-ssl-cert <path>', '--db-ssl-key <path>']) expect(help).to.include(flag);
  });
});
