import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { connectWithTls, databaseEndpoints, type TlsSettings } from '../../../src/store/db-tls.js';
import { parseDatabaseUrl } from '../../../src/store/db-url.js';
import { isPermanentConnectError } from '../../../src/store/mysql-errors.js';

const OFF: TlsSettings = { sslMode: 'disabled', sslCa: '', sslCert: '', sslKey: '' };

describe('db.url TLS parameters', () => {
  it('reads ssl-mode, ssl-ca, ssl-cert and ssl-key (also with underscores) from the query', () => {
    const endpoint = parseDatabaseUrl('mysql://u:p@db.example:3306/memgate?ssl-mode=verify-ca&ssl_ca=/etc/ca.pem&ssl-cert=/c&ssl-key=/k');
    expect(endpoint.tls).to.deep.equal({ mode: 'verify-ca', ca: '/etc/ca.pem', cert: '/c', key: '/k' });
    expect(parseDatabaseUrl('mysql://u:p@db.example/memgate').tls).to.equal(undefined);
  });

  it('refuses an unknown parameter, an unknown mode and an empty path, naming the setting', () => {
    expect(() => parseDatabaseUrl('mysql://u:p@h/db?sslmode=require')).to.throw('db.url: unknown parameter sslmode; the URL takes socketPath, ssl-mode, ssl-ca, ssl-cert, ssl-key');
    expect(() => parseDatabaseUrl('mysql://u:p@h/db?ssl-mode=require')).to.throw('db.url: ssl-mode require is not one of: disabled, preferred, required, verify-ca, verify-identity');
    expect(() => parseDatabaseUrl('mysql://u:p@h/db?ssl-ca=')).to.throw('db.url: ssl-ca needs a file path');
  });
});

describe('databaseEndpoints (TLS settings)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'memgate-db-tls-'));
    writeFileSync(path.join(dir, 'not-pem'), 'hello\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves TLS off by default, and turns it on per node from the URL', () => {
    const [plain, secure] = databaseEndpoints('mysql://u:p@a/db,mysql://u:p@b/db?ssl-mode=required', OFF);
    expect(plain!.ssl).to.equal(undefined);
    expect(secure!.ssl!.mode).to.equal('required');
    expect(secure!.ssl!.options).to.deep.equal({ rejectUnauthorized: false, verifyIdentity: false });
  });

  it('checks the certificate under verify-ca, and also the host name under verify-identity', () => {
    const at = (mode: string) => databaseEndpoints('mysql://u:p@db.example/db', { ...OFF, sslMode: mode })[0]!.ssl!.options;
    expect(at('preferred')).to.include({ rejectUnauthorized: false, verifyIdentity: false });
    expect(at('verify-ca')).to.include({ rejectUnauthorized: true, verifyIdentity: false });
    expect(at('verify-identity')).to.include({ rejectUnauthorized: true, verifyIdentity: true });
  });

  it('refuses a certificate file given while the mode is disabled', () => {
    expect(() => databaseEndpoints('mysql://u:p@h/db', { ...OFF, sslCa: '/etc/ca.pem' }))
      .to.throw('db.sslCa [--db-ssl-ca, MEMGATE_DB_SSL_CA]: given while db.sslMode [--db-ssl-mode, MEMGATE_DB_SSL_MODE] is disabled');
  });

  it('names the setting and the reason for a missing or non-PEM file, on the node that has it', () => {
    expect(() => databaseEndpoints('mysql://u:p@h/db', { ...OFF, sslMode: 'verify-ca', sslCa: path.join(dir, 'missing.pem') }))
      .to.throw(`db.sslCa [--db-ssl-ca, MEMGATE_DB_SSL_CA]: cannot read ${path.join(dir, 'missing.pem')}: ENOENT`);
    expect(() => databaseEndpoints(`mysql://u:p@a/db,mysql://u:p@b/db?ssl-mode=verify-ca&ssl-ca=${path.join(dir, 'not-pem')}`, OFF))
      .to.throw(`db.url (node 2 of 2) parameter ssl-ca: ${path.join(dir, 'not-pem')} is not a PEM file`);
  });

  it('wants a client certificate and its key together', () => {
    expect(() => databaseEndpoints('mysql://u:p@h/db', { ...OFF, sslMode: 'required', sslCert: '/c.pem' }))
      .to.throw('db.sslKey [--db-ssl-key, MEMGATE_DB_SSL_KEY]: needed with db.sslCert');
  });

  it('refuses verify-identity against an IP address, which mysql2 would not check', () => {
    expect(() => databaseEndpoints('mysql://u:p@127.0.0.1/db', { ...OFF, sslMode: 'verify-identity' }))
      .to.throw(/db\.sslMode .*: verify-identity checks .* 127\.0\.0\.1 is an address/);
  });

  describe('connectWithTls', () => {
    const [endpoint] = databaseEndpoints('mysql://u:p@db.example:3306/db', { ...OFF, sslMode: 'preferred' });
    const failing = (code: string, message: string) => Object.assign(new Error(message), { code, fatal: true });

    it('under preferred, opens again in clear when the server offers no TLS', async () => {
      const tried: unknown[] = [];
      const opened = await connectWithTls(endpoint!, async (ssl) => {
        tried.push(ssl);
        if (ssl) throw failing('HANDSHAKE_NO_SSL_SUPPORT', 'Server does not support secure connection');
        return 'clear';
      });
      expect(opened).to.equal('clear');
      expect(tried).to.deep.equal([endpoint!.ssl!.options, undefined]);
    });

    it('makes a refused certificate a permanent connect error that names the settings, and leaves a cut handshake an outage', async () => {
      const strict = { ...endpoint!, ssl: { ...endpoint!.ssl!, mode: 'verify-ca' as const, describe: 'db.sslMode verify-ca' } };
      const refused = await connectWithTls(strict, () => Promise.reject(failing('HANDSHAKE_SSL_ERROR', 'self-signed certificate in certificate chain'))).catch((e: Error) => e);
      expect((refused as Error).message).to.equal("TLS to db.example:3306 failed under db.sslMode verify-ca: the server's certificate was refused: self-signed certificate in certificate chain");
      expect(isPermanentConnectError(refused)).to.equal(true);
      const cut = await connectWithTls(strict, () => Promise.reject(failing('HANDSHAKE_SSL_ERROR', 'socket hang up'))).catch((e: Error) => e);
      expect((cut as Error).message).to.equal('socket hang up');
      expect(isPermanentConnectError(cut)).to.equal(false);
    });
  });
});
