import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { captureLog, freshTableName, getTestDatabaseUrl } from '../helpers/database.js';

const PASSWORD = 'correct horse battery staple';

function packet(opcode: number, key = '', value = '', extras = Buffer.alloc(0)): Buffer {
  const k = Buffer.from(key);
  const v = Buffer.from(value, 'latin1');
  const header = Buffer.alloc(24);
  header[0] = 0x80;
  header[1] = opcode;
  header.writeUInt16BE(k.length, 2);
  header[4] = extras.length;
  header.writeUInt32BE(extras.length + k.length + v.length, 8);
  return Buffer.concat([header, extras, k, v]);
}

/** Sends bytes and collects replies until `packets` responses arrived or the server closed. */
interface Reply { opcode: number; status: number; key: string; body: string }

function exchange(port: number, data: Buffer, done: number | ((replies: Reply[]) => boolean)): Promise<{ replies: Reply[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let closed = false;
    const replies: Reply[] = [];
    const complete = typeof done === 'number' ? () => replies.length >= done : () => done(replies);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ replies, closed });
    };
    const timer = setTimeout(finish, 3000);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 24 && received.length >= 24 + received.readUInt32BE(8)) {
        const length = 24 + received.readUInt32BE(8);
        const keyEnd = 24 + received[4]! + received.readUInt16BE(2);
        replies.push({
          opcode: received[1]!,
          status: received.readUInt16BE(6),
          key: received.subarray(24 + received[4]!, keyEnd).toString('latin1'),
          body: received.subarray(keyEnd, length).toString('latin1'),
        });
        received = received.subarray(length);
      }
      if (complete()) finish();
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.write(data);
  });
}

describe('e2e: SASL authentication (sasl.passwordFile)', function () {
  this.timeout(60_000);
  let app: App;
  let port: number;
  let dir: string;
  const log = captureLog();

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-sasl-'));
    const passwordFile = path.join(dir, 'users');
    await writeFile(passwordFile, `php:${PASSWORD}\n`, { mode: 0o600 });
    const config = loadConfig({
      env: {},
      overrides: {
        listen: { port: 0 },
        db: { url: await getTestDatabaseUrl(), table: freshTableName('sasl') },
        sasl: { passwordFile },
      },
    });
    app = await startApp(config, log.logger);
    port = app.address().port;
  });

  after(async () => {
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a client after a PLAIN auth and refuses one that did not authenticate', async () => {
    const set = packet(0x01, 'k', 'v', Buffer.alloc(8));
    const good = await exchange(port, Buffer.concat([
      packet(0x20), packet(0x21, 'PLAIN', `\0php\0${PASSWORD}`), set, packet(0x00, 'k'),
    ]), 4);
    expect(good.replies.map((r) => [r.status, r.body])).to.deep.equal([
      [0, 'PLAIN'], [0, 'Authenticated'], [0, ''], [0, 'v'],
    ]);

    const bad = await exchange(port, Buffer.concat([packet(0x21, 'PLAIN', '\0php\0guess'), packet(0x00, 'k'), packet(0x0a)]), 3);
    expect(bad.replies.map((r) => [r.opcode, r.status, r.body])).to.deep.equal([
      [0x21, 0x20, 'Auth failure.'], [0x00, 0x20, 'Auth failure.'],
    ]);
    expect(bad.closed, 'closed after a command without auth').to.equal(true);
  });

  it('closes text connections, as memcached -S speaks binary only', async () => {
    const text = await exchange(port, Buffer.from('get k\r\nversion\r\nversion\r\nversion\r\n'), 1);
    expect(text.replies).to.deep.equal([]);
    expect(text.closed).to.equal(true);
  });

  it('counts auth attempts in stats and never logs the password', async () => {
    const stats = await exchange(port, Buffer.concat([packet(0x21, 'PLAIN', `\0php\0${PASSWORD}`), packet(0x10)]),
      (replies) => replies.length > 1 && replies.at(-1)!.key === '');
    const entries = new Map(stats.replies.slice(1).map((r) => [r.key, r.body]));
    // this test's auth and the two before it: one failed
    expect(entries.get('auth_cmds')).to.equal('3');
    expect(entries.get('auth_errors')).to.equal('1');
    expect(log.text()).to.include('SASL authentication required');
    expect(log.text()).to.not.include(PASSWORD);
  });
});
