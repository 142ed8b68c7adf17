import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export interface TestCertificates {
  /** the CA that signed the server's certificate */
  ca: string;
  /** a CA that signed nothing the server shows */
  otherCa: string;
  serverCert: string;
  serverKey: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A CA, a server certificate it signs for localhost and 127.0.0.1, and an unrelated CA; PEM files in dir. */
export function makeCertificates(dir: string): TestCertificates {
  for (const name of ['ca', 'other-ca']) {
    openssl(dir, 'req', '-x509', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=memgate test ${name}`);
  }
  openssl(dir, 'req', ...EC_KEY, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext');
  const at = (name: string) => path.join(dir, name);
  return { ca: at('ca.pem'), otherCa: at('other-ca.pem'), serverCert: at('server.pem'), serverKey: at('server.key') };
}
