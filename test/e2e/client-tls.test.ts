/**
 * Client TLS (tls.cert, tls.key, tls.ca, tls.plainToo), driven by a real TLS client: Python's
 * ssl module (test/python/tls-exchange.py), with certificates made by openssl for the run.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/config/load-config.js';
import { Opcode, Status } from '../../src/protocol/binary/opcodes.js';
import { binaryRequest, splitPackets, storeExtras } from '../helpers/binary-packets.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';

const CLIENT = fileURLToPath(new URL('../../../test/python/tls-exchange.py', import.meta.url));
const PASSWORD = 'tls test password';

interface Exchange { ok: boolean; reply: string; closed?: boolean; version?: string; error?: string }

function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => execFile(command, args, { cwd, timeout: 30_000 }, (error, stdout, stderr) => {
    if (error) reject(new Error(`${command} ${args.join(' ')}: ${error.message} ${stderr}`));
    else resolve(stdout);
  }));
}

/** A CA, a server certificate for localhost and a client certificate, all signed by it. */
async function makeCertificates(dir: string, ca: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=${ca}`], dir);
  for (const name of ['server', 'client']) {
    const who = `${ca}-${name}`;
    await run('openssl', ['req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', '/CN=localhost'], dir);
    await writeFile(path.join(dir, `${who}.ext`), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    await run('openssl', ['x509', '-req', '-in', `${who}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial',
      '-out', `${who}.pem`, '-days', '2', '-extfile', `${who}.ext`], dir);
  }
}

describe('e2e: client TLS', function () {
  this.timeout(60_000);
  let dir: string;
  const file = (name: string) => path.join(dir, name);
  const gateways: RunningGateway[] = [];

  async function exchange(port: number, send: Buffer | string, options: { tls?: boolean; client?: string } = {}): Promise<Exchange> {
    const request = {
      port,
      tls: options.tls ?? true,
      ca: file('ca.pem'),
      ...(options.client ? { cert: file(`${options.client}.pem`), key: file(`${options.client}.key`) } : {}),
      send: Buffer.from(send).toString('base64'),
    };
    const result = JSON.parse(await run('python3', [CLIENT, JSON.stringify(request)], dir)) as Exchange;
    return { ...result, reply: Buffer.from(result.reply ?? '', 'base64').toString('latin1') };
  }

  async function start(tls: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<RunningGateway> {
    const gateway = await startGateway({ config: { tls, ...extra } });
    gateways.push(gateway);
    return gateway;
  }

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-tls-'));
    await makeCertificates(dir, 'ca');
    await makeCertificates(dir, 'rogue');
    await writeFile(file('users'), `php:${PASSWORD}\n`, { mode: 0o600 });
  });

  after(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  describe('TLS only', () => {
    let gateway: RunningGateway;

    before(async () => {
      gateway = await start({ cert: file('ca-server.pem'), key: file('ca-server.key') });
    });

    it('serves the text protocol over TLS', async () => {
      const result = await exchange(gateway.port, 'set tls-text 3 0 5\r\nhello\r\nget tls-text\r\nquit\r\n');
      expect(result).to.include({ ok: true, closed: true, reply: 'STORED\r\nVALUE tls-text 3 5\r\nhello\r\nEND\r\n' });
      expect(result.version).to.match(/^TLSv1\.[23]$/);
    });

    it('serves the meta protocol over TLS', async () => {
      const result = await exchange(gateway.port, 'ms tls-meta 2 T0 F7\r\nhi\r\nmg tls-meta v f\r\nmn\r\nquit\r\n');
      expect(result).to.include({ ok: true, closed: true, reply: 'HD\r\nVA 2 f7\r\nhi\r\nMN\r\n' });
    });

    it('closes a plain connection without a reply and goes on serving TLS clients', async () => {
      const plain = await exchange(gateway.port, 'version\r\n', { tls: false });
      expect(plain).to.include({ ok: true, closed: true, reply: '' });
      const binary = await exchange(gateway.port, binaryRequest({ opcode: Opcode.VERSION }), { tls: false });
      expect(binary).to.include({ ok: true, closed: true, reply: '' });
      const after = await exchange(gateway.port, 'version\r\nquit\r\n');
      expect(after.reply).to.match(/^VERSION \S+\r\n$/);
    });
  });

  describe('client certificates required (tls.ca), plain clients too, SASL', () => {
    let gateway: RunningGateway;
    const auth = binaryRequest({ opcode: Opcode.SASL_AUTH, key: 'PLAIN', value: `\0php\0${PASSWORD}` });
    const session = Buffer.concat([
      auth,
      binaryRequest({ opcode: Opcode.SET, key: 'tls-bin', value: 'v1', extras: storeExtras(0, 0) }),
      binaryRequest({ opcode: Opcode.GET, key: 'tls-bin' }),
      binaryRequest({ opcode: Opcode.QUIT }),
    ]);
    const answers = (reply: string) => splitPackets(Buffer.from(reply, 'latin1')).packets.map((p) => [p.opcode, p.status, p.value.toString('latin1')]);

    before(async () => {
      gateway = await start(
        { cert: file('ca-server.pem'), key: file('ca-server.key'), ca: file('ca.pem'), plainToo: true },
        { sasl: { passwordFile: file('users') } },
      );
    });

    it('authenticates with SASL PLAIN over TLS for a client with a certificate of the CA', async () => {
      const result = await exchange(gateway.port, session, { client: 'ca-client' });
      expect(result.ok, result.error).to.equal(true);
      expect(answers(result.reply)).to.deep.equal([
        [Opcode.SASL_AUTH, Status.SUCCESS, 'Authenticated'], [Opcode.SET, Status.SUCCESS, ''], [Opcode.GET, Status.SUCCESS, 'v1'], [Opcode.QUIT, Status.SUCCESS, ''],
      ]);
    });

    for (const [what, client] of [['no certificate', undefined], ['a certificate of another CA', 'rogue-client']] as const) {
      it(`refuses a TLS client with ${what}`, async () => {
        const result = await exchange(gateway.port, session, { client });
        // TLS 1.3 lets the client finish its side first; then the server's alert ends it.
        expect(result.ok ? result.reply : '', result.error).to.equal('');
      });
    }

    it('serves plain clients on the same port (tls.plainToo)', async () => {
      const result = await exchange(gateway.port, session, { tls: false });
      expect(answers(result.reply).map(([opcode, status]) => [opcode, status])).to.deep.equal([
        [Opcode.SASL_AUTH, Status.SUCCESS], [Opcode.SET, Status.SUCCESS], [Opcode.GET, Status.SUCCESS], [Opcode.QUIT, Status.SUCCESS],
      ]);
    });
  });

  describe('bad settings stop start-up, naming the setting', () => {
    const startError = async (tls: Record<string, unknown>): Promise<string> => {
      const error = await start(tls).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(ConfigError);
      return (error as Error).message;
    };

    it('a certificate without its key', async () => {
      expect(await startError({ cert: file('ca-server.pem') })).to.include('--tls-key');
    });

    it('a certificate file that cannot be read', async () => {
      expect(await startError({ cert: file('missing.pem'), key: file('ca-server.key') })).to.include('tls.cert').and.include('missing.pem');
    });

    it('a key that does not belong to the certificate', async () => {
      expect(await startError({ cert: file('ca-server.pem'), key: file('rogue-server.key') })).to.include('--tls-cert');
    });
  });
});
