/**
 * End to end through real memcached clients speaking the text protocol: the npm `memcached`
 * package and libmemcached's command-line tools (Debian libmemcached-tools), against a real
 * gateway over TCP on the test MariaDB.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import Memcached from 'memcached';
import { ITEM_HEADER_BYTES } from '../../src/model/item-rules.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { RawConnection, textReplyEnd } from '../helpers/raw-connection.js';

type Callback = (err: unknown, result?: unknown) => void;

/** The client's callbacks as promises; NOT_STORED (an Error with notStored) becomes `false`. */
function call<T = unknown>(fn: (cb: Callback) => void, timeoutMs = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`memcached client call timed out after ${timeoutMs} ms`)), timeoutMs);
    fn((err, result) => {
      clearTimeout(timer);
      if (err && (err as { notStored?: boolean }).notStored) resolve(false as T);
      else if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(result as T);
    });
  });
}

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs one of the libmemcached tools, bounded in time. */
function tool(name: string, args: string[], timeoutMs = 10_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(name, args, { encoding: 'buffer', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      if (error && code === null) {
        reject(new Error(`${name} ${args.join(' ')} failed: ${error.message} ${stderr.toString()}`));
        return;
      }
      resolve({ code, stdout, stderr: stderr.toString('utf8') });
    });
  });
}

/**
 * One text-protocol request over a fresh socket; returns the whole reply, which must be all that
 * arrived (a single line, or VALUE blocks up to END).
 */
async function rawRequest(port: number, payload: Buffer, timeoutMs = 5000): Promise<Buffer> {
  const conn = await RawConnection.open(port);
  try {
    await conn.send(payload);
    const res = await conn.readUntil((buf) => (textReplyEnd(buf) === buf.length ? buf.length : -1), timeoutMs);
    if (res.closed || res.timedOut) throw new Error(`no complete reply within ${timeoutMs} ms; got ${JSON.stringify(res.data.toString('latin1').slice(0, 200))}`);
    return res.data;
  } finally {
    await conn.close();
  }
}

describe('e2e: real text-protocol clients', function () {
  this.timeout(30_000);
  let gateway: RunningGateway;

  before(async () => {
    gateway = await startGateway();
  });

  after(async () => {
    await gateway?.stop();
  });

  describe('npm memcached client', () => {
    let client: Memcached;

    beforeEach(() => {
      client = new Memcached(`127.0.0.1:${gateway.port}`, {
        retries: 0,
        timeout: 2000,
        failures: 1,
        retry: 1000,
        reconnect: 1000,
        idle: 2000,
        poolSize: 4,
      });
    });

    afterEach(() => {
      client.end();
    });

    it('set, get, replace, add, delete', async () => {
      expect(await call((cb) => client.set('greeting', 'hello world', 0, cb))).to.equal(true);
      expect(await call((cb) => client.get('greeting', cb))).to.equal('hello world');

      expect(await call((cb) => client.replace('greeting', 'replaced', 0, cb))).to.equal(true);
      expect(await call((cb) => client.get('greeting', cb))).to.equal('replaced');
      expect(await call((cb) => client.replace('no-such-key', 'x', 0, cb))).to.equal(false);
      expect(await call((cb) => client.get('no-such-key', cb))).to.equal(undefined);

      expect(await call((cb) => client.add('greeting', 'other', 0, cb))).to.equal(false);
      expect(await call((cb) => client.get('greeting', cb))).to.equal('replaced');
      expect(await call((cb) => client.add('fresh', 'first', 0, cb))).to.equal(true);
      expect(await call((cb) => client.get('fresh', cb))).to.equal('first');

      expect(await call((cb) => client.del('greeting', cb))).to.equal(true);
      expect(await call((cb) => client.get('greeting', cb))).to.equal(undefined);
      expect(await call((cb) => client.del('greeting', cb))).to.equal(false);
    });

    it('gets + cas: the returned cas wins once, a stale cas loses', async () => {
      await call((cb) => client.set('casme', 'v1', 0, cb));
      const first = await call<{ casme: string; cas: string }>((cb) => client.gets('casme', cb));
      expect(first.casme).to.equal('v1');
      expect(first.cas).to.match(/^\d+$/);

      expect(await call((cb) => client.cas('casme', 'v2', first.cas, 0, cb))).to.equal(true);
      expect(await call((cb) => client.get('casme', cb))).to.equal('v2');
      // the same cas again is stale now
      expect(await call((cb) => client.cas('casme', 'v3', first.cas, 0, cb))).to.equal(false);
      expect(await call((cb) => client.get('casme', cb))).to.equal('v2');

      const second = await call<{ casme: string; cas: string }>((cb) => client.gets('casme', cb));
      expect(second.casme).to.equal('v2');
      expect(second.cas).to.not.equal(first.cas);
    });

    it('append and prepend', async () => {
      await call((cb) => client.set('list', 'middle', 0, cb));
      expect(await call((cb) => client.append('list', '>end', cb))).to.equal(true);
      expect(await call((cb) => client.prepend('list', 'start<', cb))).to.equal(true);
      expect(await call((cb) => client.get('list', cb))).to.equal('start<middle>end');
      expect(await call((cb) => client.append('absent-list', 'x', cb))).to.equal(false);
      expect(await call((cb) => client.prepend('absent-list', 'x', cb))).to.equal(false);
      expect(await call((cb) => client.get('absent-list', cb))).to.equal(undefined);
    });

    it('incr and decr', async () => {
      await call((cb) => client.set('counter', '10', 0, cb));
      expect(await call((cb) => client.incr('counter', 5, cb))).to.equal(15);
      expect(await call((cb) => client.decr('counter', 3, cb))).to.equal(12);
      // decr saturates at 0 like memcached
      expect(await call((cb) => client.decr('counter', 100, cb))).to.equal(0);
      expect(await call((cb) => client.incr('counter', 7, cb))).to.equal(7);
      // memcached rewrites a shorter number in place, padded with spaces to the old length
      expect(await call((cb) => client.get('counter', cb))).to.equal('7 ');
      expect(await call((cb) => client.incr('counter', 100, cb))).to.equal(107);
      expect(await call((cb) => client.get('counter', cb))).to.equal('107');
      expect(await call((cb) => client.incr('no-counter', 1, cb))).to.equal(false);
    });

    it('touch makes an item expire; touching a missing key fails', async () => {
      await call((cb) => client.set('touchy', 'here', 0, cb));
      expect(await call((cb) => client.touch('touchy', 100, cb))).to.equal(true);
      expect(await call((cb) => client.get('touchy', cb))).to.equal('here');
      // a negative exptime expires the item at once
      expect(await call((cb) => client.touch('touchy', -1, cb))).to.equal(true);
      expect(await call((cb) => client.get('touchy', cb))).to.equal(undefined);
      expect(await call((cb) => client.touch('touchy', 100, cb))).to.equal(false);
    });

    it('getMulti returns the present keys only', async () => {
      await call((cb) => client.set('multi-a', 'A', 0, cb));
      await call((cb) => client.set('multi-b', 'BB', 0, cb));
      await call((cb) => client.set('multi-c', '', 0, cb));
      const found = await call<Record<string, unknown>>((cb) => client.getMulti(['multi-a', 'multi-b', 'multi-c', 'multi-missing'], cb));
      expect(found).to.deep.equal({ 'multi-a': 'A', 'multi-b': 'BB', 'multi-c': '' });
    });

    it('binary values (CR LF, NUL, high bytes) and zero-length values round-trip', async () => {
      const binary = Buffer.concat([
        Buffer.from('line one\r\nline two\r\n', 'latin1'),
        Buffer.from([0, 0, 1, 0x7f, 0x80, 0xfe, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]),
        Buffer.from('\r\nEND\r\n', 'latin1'),
        randomBytes(512),
      ]);
      expect(await call((cb) => client.set('binary', binary, 0, cb))).to.equal(true);
      const back = await call<unknown>((cb) => client.get('binary', cb));
      // the client flags Buffers and hands them back as Buffers
      expect(Buffer.isBuffer(back), 'value comes back as a Buffer').to.equal(true);
      expect((back as Buffer).equals(binary)).to.equal(true);

      expect(await call((cb) => client.set('empty', '', 0, cb))).to.equal(true);
      expect(await call((cb) => client.get('empty', cb))).to.equal('');
    });

    it('flags round-trip: the client decodes JSON (flag 2) and numbers (flag 8) by them', async () => {
      const object = { name: 'memgate', list: [1, 2, 3], nested: { ok: true } };
      expect(await call((cb) => client.set('typed-json', object, 0, cb))).to.equal(true);
      expect(await call((cb) => client.get('typed-json', cb))).to.deep.equal(object);
      expect(await call((cb) => client.set('typed-number', 12.5, 0, cb))).to.equal(true);
      expect(await call((cb) => client.get('typed-number', cb))).to.equal(12.5);
      const raw = await rawRequest(gateway.port, Buffer.from('get typed-json typed-number\r\n', 'latin1'));
      expect(raw.toString('latin1')).to.match(/^VALUE typed-json 2 \d+\r\n.*\r\nVALUE typed-number 8 4\r\n12\.5\r\nEND\r\n$/s);
    });

    it('stores and returns an item of exactly item_size_max including memcached overhead', async () => {
      const key = 'big-item';
      // flags 0: memcached charges header + key + 1 + value + 2 (CRLF) against -I
      const size = gateway.config.items.sizeMax - ITEM_HEADER_BYTES - (key.length + 1) - 2;
      expect(size).to.be.greaterThan(1024 * 1024 - 100);
      const value = randomBytes(Math.ceil(size / 2)).toString('hex').slice(0, size);
      expect(await call((cb) => client.set(key, value, 0, cb), 10_000)).to.equal(true);
      const back = await call<string>((cb) => client.get(key, cb), 10_000);
      expect(back.length).to.equal(size);
      expect(back === value, 'the 1 MiB value comes back unchanged').to.equal(true);

      // one byte more is refused the way memcached refuses it
      const over = await rawRequest(gateway.port, Buffer.from(`set ${key}2 0 0 ${size + 1}\r\n${value}x\r\n`, 'latin1'));
      expect(over.toString('latin1')).to.equal('SERVER_ERROR object too large for cache\r\n');
    });
  });

  it('binary values are stored byte for byte (raw socket)', async () => {
    const value = Buffer.concat([Buffer.from('\r\n\0END\r\nVALUE x 0 1\r\n', 'latin1'), randomBytes(300), Buffer.from([0, 13, 10])]);
    const stored = await rawRequest(gateway.port, Buffer.concat([
      Buffer.from(`set raw-binary 4294967295 0 ${value.length}\r\n`, 'latin1'), value, Buffer.from('\r\n', 'latin1'),
    ]));
    expect(stored.toString('latin1')).to.equal('STORED\r\n');
    const reply = await rawRequest(gateway.port, Buffer.from('get raw-binary\r\n', 'latin1'));
    const header = Buffer.from(`VALUE raw-binary 4294967295 ${value.length}\r\n`, 'latin1');
    expect(reply.equals(Buffer.concat([header, value, Buffer.from('\r\nEND\r\n', 'latin1')]))).to.equal(true);
  });

  describe('libmemcached command-line tools (text protocol)', () => {
    let dir: string;
    let servers: string;

    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-tools-'));
      servers = `--servers=127.0.0.1:${gateway.port}`;
    });

    after(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('memccp copies a file in, memccat reads it back byte-identical, memcrm removes it', async () => {
      const content = Buffer.concat([Buffer.from('first line\r\nsecond\n\0', 'latin1'), randomBytes(200_000)]);
      const file = path.join(dir, 'payload.bin');
      await writeFile(file, content);

      const copy = await tool('memccp', [servers, file]);
      expect(copy.code, copy.stderr).to.equal(0);

      const out = path.join(dir, 'payload.out');
      const cat = await tool('memccat', [servers, `--file=${out}`, 'payload.bin']);
      expect(cat.code, cat.stderr).to.equal(0);
      expect((await readFile(out)).equals(content), 'memccat returns the bytes memccp stored').to.equal(true);

      // on stdout memccat adds a newline after the value
      const catStdout = await tool('memccat', [servers, 'payload.bin']);
      expect(catStdout.code, catStdout.stderr).to.equal(0);
      expect(catStdout.stdout.equals(Buffer.concat([content, Buffer.from('\n')]))).to.equal(true);

      const removed = await tool('memcrm', [servers, 'payload.bin']);
      expect(removed.code, removed.stderr).to.equal(0);
      const gone = await tool('memccat', [servers, 'payload.bin']);
      expect(gone.code).to.not.equal(0);
      expect(gone.stdout.length).to.equal(0);
      const again = await tool('memcrm', [servers, 'payload.bin']);
      expect(again.code, 'removing a missing key fails').to.not.equal(0);
    });

    it('32-bit flags survive memccp --flags / memccat --flags', async () => {
      const file = path.join(dir, 'flagged.txt');
      await writeFile(file, 'flagged value');
      const copy = await tool('memccp', [servers, '--flags=4294967295', file]);
      expect(copy.code, copy.stderr).to.equal(0);
      const cat = await tool('memccat', [servers, '--flags', 'flagged.txt']);
      expect(cat.code, cat.stderr).to.equal(0);
      expect(cat.stdout.toString('latin1')).to.equal('4294967295\nflagged value\n');

      const raw = await rawRequest(gateway.port, Buffer.from('get flagged.txt\r\n', 'latin1'));
      expect(raw.toString('latin1')).to.equal('VALUE flagged.txt 4294967295 13\r\nflagged value\r\nEND\r\n');
    });

    it('memcflush hides everything', async () => {
      const file = path.join(dir, 'flushme.txt');
      await writeFile(file, 'soon gone');
      expect((await tool('memccp', [servers, file])).code).to.equal(0);
      expect((await tool('memccat', [servers, 'flushme.txt'])).code).to.equal(0);
      const flush = await tool('memcflush', [servers]);
      expect(flush.code, flush.stderr).to.equal(0);
      const after = await tool('memccat', [servers, 'flushme.txt']);
      expect(after.code).to.not.equal(0);
    });

    it('memcstat shows the gateway\'s stats and version', async () => {
      const stat = await tool('memcstat', [servers]);
      expect(stat.code, stat.stderr).to.equal(0);
      const text = stat.stdout.toString('utf8');
      expect(text).to.include(`Server: 127.0.0.1 (${gateway.port})`);
      expect(text).to.match(/\n\s*version: 1\.6\.18-memgate-\S+\n/);
      expect(text).to.match(/\n\s*curr_connections: \d+\n/);
      expect(text).to.match(/\n\s*cmd_get: [1-9]\d*\n/);
      expect(text).to.match(/\n\s*pid: \d+\n/);
    });
  });
});
