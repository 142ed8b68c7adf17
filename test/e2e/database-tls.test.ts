/**
 * TLS to the database against a MariaDB that has a certificate and a user created with
 * REQUIRE SSL: the right CA connects (serve, schema, sweep), a wrong CA under verify-ca stops
 * start-up naming the setting, and preferred still reaches a server without TLS.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startEmbeddedMariadb, type EmbeddedMariadb } from '../../src/embedded/mariadb.js';
import { databaseEndpoints } from '../../src/store/db-tls.js';
import { createDatabasePool } from '../../src/store/pool.js';
import { makeCertificates, type TestCertificates } from '../helpers/certificates.js';
import { startCli } from '../helpers/cli.js';
import { findFreePort, freshTableName, getTestDatabaseUrl, testLogger } from '../helpers/database.js';
import { startGateway } from '../helpers/gateway.js';
import { RawConnection } from '../helpers/raw-connection.js';

const DATABASE = 'memgate_tls';
const USER = 'tls_only';
const PASSWORD = 'tls-only-pw';

describe('e2e: TLS to the database', function () {
  this.timeout(120_000);
  let dir: string;
  let certs: TestCertificates;
  let server: EmbeddedMariadb;
  let port: number;
  /** the REQUIRE SSL user, by host name (verify-identity checks it against the certificate) */
  let url: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-tls-'));
    certs = makeCertificates(dir);
    port = await findFreePort();
    // The server's own init file creates memgate's user; this one adds the user that may only
    // connect over TLS. The last --init-file given wins, so it repeats what memgate's does.
    const dataDir = path.join(dir, 'mariadb');
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const memgatePassword = 'ab'.repeat(24);
    await writeFile(path.join(dataDir, 'password'), `${memgatePassword}\n`, { mode: 0o600 });
    const initFile = path.join(dir, 'tls-init.sql');
    await writeFile(initFile, [
      `CREATE DATABASE IF NOT EXISTS \`${DATABASE}\`;`,
      ...['127.0.0.1', 'localhost'].flatMap((host) => [
        `CREATE USER IF NOT EXISTS 'memgate'@'${host}' IDENTIFIED BY '${memgatePassword}';`,
        `GRANT ALL PRIVILEGES ON \`${DATABASE}\`.* TO 'memgate'@'${host}';`,
      ]),
      `CREATE USER IF NOT EXISTS '${USER}'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}' REQUIRE SSL;`,
      `GRANT ALL PRIVILEGES ON \`${DATABASE}\`.* TO '${USER}'@'127.0.0.1';`,
      '',
    ].join('\n'));
    server = await startEmbeddedMariadb({
      dataDir, port, database: DATABASE, logger: testLogger(),
      extraServerArgs: [`--ssl-ca=${certs.ca}`, `--ssl-cert=${certs.serverCert}`, `--ssl-key=${certs.serverKey}`, `--init-file=${initFile}`],
    });
    url = `mysql://${USER}:${PASSWORD}@localhost:${port}/${DATABASE}`;
  });

  after(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The cipher of a session opened with these settings, or the error that refused it. */
  async function cipherWith(databaseUrl: string, sslMode: string, sslCa = ''): Promise<string> {
    const pool = createDatabasePool({
      endpoints: databaseEndpoints(databaseUrl, { sslMode, sslCa, sslCert: '', sslKey: '' }),
      size: 1, acquireTimeoutMs: 5000, connectTimeoutMs: 5000, idleTimeoutMs: 1000, statementTimeoutMs: 5000,
    }, testLogger());
    try {
      return await pool.withConnection(async (session) => {
        const [rows] = await session.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
        return (rows as Array<{ Value: string }>)[0]!.Value;
      });
    } finally {
      await pool.close();
    }
  }

  it('the user REQUIRE SSL is refused in clear', async () => {
    const refused = await cipherWith(url, 'disabled').then(() => 'connected', (error: Error) => error.message);
    expect(refused).to.match(/Access denied/);
  });

  it('connects under verify-ca and verify-identity with the right CA, and under required with none', async () => {
    expect(await cipherWith(url, 'verify-ca', certs.ca)).to.not.equal('');
    expect(await cipherWith(url, 'verify-identity', certs.ca)).to.not.equal('');
    expect(await cipherWith(url, 'required')).to.not.equal('');
    expect(await cipherWith(url, 'preferred')).to.not.equal('');
  });

  it('refuses a server certificate that a wrong CA did not sign, under verify-ca', async () => {
    const refused = await cipherWith(url, 'verify-ca', certs.otherCa).then(() => 'connected', (error: Error) => error.message);
    expect(refused).to.match(/TLS to localhost:\d+ failed under db\.sslMode .*verify-ca with db\.sslCa .*other-ca\.pem: the server's certificate was refused/);
  });

  it('preferred reaches a server that offers no TLS, in clear; required does not', async () => {
    const plain = await getTestDatabaseUrl();
    expect(await cipherWith(plain, 'preferred')).to.equal('');
    const refused = await cipherWith(plain, 'required').then(() => 'connected', (error: Error) => error.message);
    expect(refused).to.include('the server offers no TLS');
  });

  it('serve with the right CA answers set and get through the REQUIRE SSL user', async () => {
    const gateway = await startGateway({ config: { db: { url, sslMode: 'verify-ca', sslCa: certs.ca } } });
    try {
      const client = await RawConnection.open(gateway.port);
      try {
        expect(await client.request('set tls 0 0 2\r\nok\r\n')).to.equal('STORED\r\n');
        expect(await client.request('get tls\r\n')).to.equal('VALUE tls 0 2\r\nok\r\nEND\r\n');
      } finally {
        await client.close();
      }
    } finally {
      await gateway.stop();
    }
  });

  it('serve with a wrong CA under verify-ca stops at start-up naming db.sslCa and the reason', async () => {
    const run = await startCli(['serve', '--port', '0', '--db-url', url, '--db-ssl-mode', 'verify-ca', '--db-ssl-ca', certs.otherCa,
      '--table', freshTableName('tls')], dir, {}, 30_000).exited;
    expect(run.code, run.stderr).to.equal(2);
    expect(run.stderr).to.include('db.sslCa').and.include(certs.otherCa).and.match(/certificate was refused: .*certificate/);
  });

  it('memgate schema and memgate sweep take the TLS settings from the URL parameters', async () => {
    const table = freshTableName('tls');
    const withParams = `${url}?ssl-mode=verify-identity&ssl-ca=${encodeURIComponent(certs.ca)}`;
    const schema = await startCli(['schema', '--db-url', withParams, '--table', table], dir).exited;
    expect(schema.code, schema.stderr).to.equal(0);
    expect(schema.stdout).to.equal(`schema applied: table ${table}\n`);
    const sweep = await startCli(['sweep', '--db-url', withParams, '--table', table], dir).exited;
    expect(sweep.code, sweep.stderr).to.equal(0);
    expect(sweep.stdout).to.match(/^deleted 0 rows/);
    const wrong = await startCli(['schema', '--db-url', `${url}?ssl-mode=verify-ca&ssl-ca=${encodeURIComponent(certs.otherCa)}`, '--table', table], dir).exited;
    expect(wrong.code).to.not.equal(0);
    expect(wrong.stderr).to.include('parameter ssl-ca').and.include('certificate was refused');
  });
});
