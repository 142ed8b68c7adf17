import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { Opcode, Status } from '../../src/protocol/binary/opcodes.js';
import { binaryRequest, splitPackets, storeExtras, type Packet } from '../helpers/binary-packets.js';
import { captureLog, freshTableName, getTestDatabaseUrl } from '../helpers/database.js';
import { RawConnection } from '../helpers/raw-connection.js';

const PASSWORD = 'correct horse battery staple';

const plainAuth = (data: string): Buffer => binaryRequest({ opcode: Opcode.SASL_AUTH, key: 'PLAIN', value: data });
const get = (key: string): Buffer => binaryRequest({ opcode: Opcode.GET, key });

interface Reply { opcode: number; status: number; key: string; body: string }

/**
 * Sends bytes and collects replies until `done` holds (a count of replies or a predicate), the
 * server closes, or 3 s pass.
 */
async function exchange(port: number, data: Buffer, done: number | ((replies: Reply[]) => boolean)): Promise<{ replies: Reply[]; closed: boolean }> {
  const complete = typeof done === 'number' ? (replies: Reply[]) => replies.length >= done : done;
  const replies = (packets: Packet[]): Reply[] => packets.map((p) => ({
    opcode: p.opcode, status: p.status, key: p.key.toString('latin1'), body: p.value.toString('latin1'),
  }));
  const conn = await RawConnection.open(port);
  try {
    await conn.send(data);
    const res = await conn.readUntil((buf) => {
      const { packets, rest } = splitPackets(buf);
      return complete(replies(packets)) ? buf.length - rest.length : -1;
    }, 3000);
    if (conn.error) throw conn.error;
    const { packets, rest } = splitPackets(res.data);
    if (rest.length > 0) throw new Error(`bytes that are no whole response: ${rest.toString('hex')}`);
    return { replies: replies(packets), closed: res.closed };
  } finally {
    await conn.close();
  }
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
    const set = binaryRequest({ opcode: Opcode.SET, key: 'k', value: 'v', extras: storeExtras(0, 0) });
    const good = await exchange(port, Buffer.concat([
      binaryRequest({ opcode: Opcode.SASL_LIST_MECHS }), plainAuth(`\0php\0${PASSWORD}`), set, get('k'),
    ]), 4);
    expect(good.replies.map((r) => [r.status, r.body])).to.deep.equal([
      [0, 'PLAIN'], [0, 'Authenticated'], [0, ''], [0, 'v'],
    ]);

    const bad = await exchange(port, Buffer.concat([plainAuth('\0php\0guess'), get('k'), binaryRequest({ opcode: Opcode.NOOP })]), 3);
    expect(bad.replies.map((r) => [r.opcode, r.status, r.body])).to.deep.equal([
      [Opcode.SASL_AUTH, Status.AUTH_ERROR, 'Auth failure.'], [Opcode.GET, Status.AUTH_ERROR, 'Auth failure.'],
    ]);
    expect(bad.closed, 'closed after a command without auth').to.equal(true);
  });

  it('closes text connections, as memcached -S speaks binary only', async () => {
    const text = await exchange(port, Buffer.from('get k\r\nversion\r\nversion\r\nversion\r\n'), 1);
    expect(text.replies).to.deep.equal([]);
    expect(text.closed).to.equal(true);
  });

  it('counts auth attempts in stats and never logs the password', async () => {
    const stats = await exchange(port, Buffer.concat([plainAuth(`\0php\0${PASSWORD}`), binaryRequest({ opcode: Opcode.STAT })]),
      (replies) => replies.length > 1 && replies.at(-1)!.key === '');
    const entries = new Map(stats.replies.slice(1).map((r) => [r.key, r.body]));
    // this test's auth and the two before it: one failed
    expect(entries.get('auth_cmds')).to.equal('3');
    expect(entries.get('auth_errors')).to.equal('1');
    expect(log.text()).to.include('SASL authentication required');
    expect(log.text()).to.not.include(PASSWORD);
  });
});
