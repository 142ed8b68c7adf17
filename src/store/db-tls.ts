import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import { TLS_REFUSED, tlsFailure } from './mysql-errors.js';
import { parseDatabaseUrls, type DatabaseEndpoint, type DatabaseSsl, type DatabaseTlsParams, type SslMode } from './db-url.js';

/** db.sslMode, db.sslCa, db.sslCert, db.sslKey: what a node's URL does not say itself. */
export interface TlsSettings {
  sslMode: string;
  sslCa: string;
  sslCert: string;
  sslKey: string;
}

/** A TLS setting that cannot work; the message names the setting and the reason. */
export class DatabaseTlsError extends Error {
  override readonly name = 'DatabaseTlsError';
}

const SETTING_NAMES = {
  mode: { key: 'db.sslMode', param: 'ssl-mode', others: '[--db-ssl-mode, MEMGATE_DB_SSL_MODE]' },
  ca: { key: 'db.sslCa', param: 'ssl-ca', others: '[--db-ssl-ca, MEMGATE_DB_SSL_CA]' },
  cert: { key: 'db.sslCert', param: 'ssl-cert', others: '[--db-ssl-cert, MEMGATE_DB_SSL_CERT]' },
  key: { key: 'db.sslKey', param: 'ssl-key', others: '[--db-ssl-key, MEMGATE_DB_SSL_KEY]' },
} as const;
type Field = keyof typeof SETTING_NAMES;

/** The nodes of db.url (or the embedded MariaDB's URL), each with its TLS settled. */
export function databaseEndpoints(url: string, settings: TlsSettings): DatabaseEndpoint[] {
  return databaseTls(parseDatabaseUrls(url), settings);
}

/**
 * The endpoints with mysql2's ssl option filled in from their URL parameters and the db.ssl*
 * settings. Files are read and checked here, once, so that a missing or malformed certificate
 * stops start-up with its setting named instead of failing every connection attempt later.
 */
export function databaseTls(endpoints: DatabaseEndpoint[], settings: TlsSettings): DatabaseEndpoint[] {
  return endpoints.map((endpoint, i) => {
    const where = endpoints.length === 1 ? 'db.url' : `db.url (node ${i + 1} of ${endpoints.length})`;
    const ssl = sslFor(endpoint, settings, where);
    return ssl ? { ...endpoint, ssl } : endpoint;
  });
}

function sslFor(endpoint: DatabaseEndpoint, settings: TlsSettings, where: string): DatabaseSsl | undefined {
  const fromUrl: DatabaseTlsParams = endpoint.tls ?? {};
  const given: Record<Field, string> = {
    mode: fromUrl.mode ?? settings.sslMode,
    ca: fromUrl.ca ?? settings.sslCa,
    cert: fromUrl.cert ?? settings.sslCert,
    key: fromUrl.key ?? settings.sslKey,
  };
  const name = (field: Field) => (fromUrl[field] !== undefined
    ? `${where} parameter ${SETTING_NAMES[field].param}`
    : `${SETTING_NAMES[field].key} ${SETTING_NAMES[field].others}`);
  const fail = (field: Field, reason: string) => new DatabaseTlsError(`${name(field)}: ${reason}`);
  const mode = given.mode as SslMode;
  if (mode === 'disabled') {
    const stray = (['ca', 'cert', 'key'] as const).find((field) => given[field] !== '');
    // A certificate given with TLS off is almost always a forgotten mode: refuse to go on in clear.
    if (stray) throw fail(stray, `given while ${name('mode')} is disabled, so it would not be used; set the mode to verify-ca, verify-identity or required`);
    return undefined;
  }
  if ((given.cert === '') !== (given.key === '')) {
    const missing = given.cert === '' ? 'cert' : 'key';
    throw fail(missing, `needed with ${name(missing === 'cert' ? 'key' : 'cert')}: a client certificate needs both`);
  }
  if (mode === 'verify-identity' && isIP(endpoint.host)) {
    throw fail('mode', `verify-identity checks the server's certificate against a host name, and ${endpoint.host} is an address; use the name the certificate is issued to, or verify-ca`);
  }
  const options: DatabaseSsl['options'] = {
    // preferred and required encrypt without checking who answers, as the mysql client does.
    rejectUnauthorized: mode === 'verify-ca' || mode === 'verify-identity',
    verifyIdentity: mode === 'verify-identity',
  };
  if (given.ca) options.ca = readPem(given.ca, (reason) => fail('ca', reason), checkCertificate);
  if (given.cert) options.cert = readPem(given.cert, (reason) => fail('cert', reason), checkCertificate);
  if (given.key) options.key = readPem(given.key, (reason) => fail('key', reason), () => undefined);
  if (options.cert && options.key) {
    try {
      createSecureContext({ cert: options.cert, key: options.key });
    } catch (error) {
      throw fail('key', `cannot be used with the certificate ${given.cert}: ${(error as Error).message}`);
    }
  }
  const checkedBy = !options.rejectUnauthorized ? '' : given.ca ? ` with ${name('ca')} ${given.ca}` : ' with Node\'s public CAs (no db.sslCa)';
  return { mode, options, describe: `${name('mode')} ${mode}${checkedBy}` };
}

function readPem(path: string, fail: (reason: string) => Error, check: (pem: string) => void): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw fail(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!pem.includes('-----BEGIN ')) throw fail(`${path} is not a PEM file (no -----BEGIN line)`);
  try {
    check(pem);
  } catch (error) {
    throw fail(`${path}: ${(error as Error).message}`);
  }
  return pem;
}

function checkCertificate(pem: string): void {
  const certificate = new X509Certificate(pem);
  if (Date.parse(certificate.validTo) < Date.now()) throw new Error(`the certificate expired on ${certificate.validTo}`);
}

/**
 * Opens a connection with the endpoint's ssl option. Under preferred, a server that offers no
 * TLS is connected to in clear. A refused certificate or a server without TLS under a stricter
 * mode fails with the settings involved named.
 */
export async function connectWithTls<C>(endpoint: DatabaseEndpoint, open: (ssl: DatabaseSsl['options'] | undefined) => Promise<C>): Promise<C> {
  const ssl = endpoint.ssl;
  if (!ssl) return open(undefined);
  try {
    return await open(ssl.options);
  } catch (error) {
    const failure = tlsFailure(error);
    if (failure === 'not_offered' && ssl.mode === 'preferred') return open(undefined);
    if (!failure) throw error;
    const reason = failure === 'not_offered' ? 'the server offers no TLS' : `the server's certificate was refused: ${(error as Error).message}`;
    throw Object.assign(new DatabaseTlsError(`TLS to ${endpoint.host}:${endpoint.port} failed under ${ssl.describe}: ${reason}`, { cause: error }), {
      code: TLS_REFUSED, fatal: true,
    });
  }
}
