/**
 * End to end through real clients speaking the BINARY protocol: libmemcached's command-line
 * tools with --binary (Debian libmemcached-tools), the npm `memjs` client and php-memcached
 * (libmemcached inside PHP, the one that pipelines quiet opcodes), with and without SASL PLAIN,
 * plus a text client and a binary client sharing one port. Every scenario runs against the real
 * memcached 1.6.18 first (the ground truth) and then against memgate with the same assertions.
 * memcached's SASL needs a cyrus sasldb, made with saslpasswd2 (Debian sasl2-bin).
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import Memcached from 'memcached';
import { Client, Utils, type Response, type Serializer } from 'memjs';
import { ITEM_HEADER_BYTES } from '../../src/model/item-rules.js';
import { Opcode, Status } from '../../src/protocol/binary/opcodes.js';
import { splitPackets, type Packet } from '../helpers/binary-packets.js';
import { startGateway } from '../helpers/gateway.js';
import { startMemcached } from '../helpers/memcached-server.js';
import { RawConnection } from '../helpers/raw-connection.js';

/** memcached's default -I, and memgate's default items.sizeMax. */
const ITEM_SIZE_MAX = 1024 * 1024;

const USER = 'alice';
const PASSWORD = 'open sesame';

type Flavour = 'memcached' | 'memgate';
const FLAVOURS: readonly Flavour[] = ['memcached', 'memgate'];

interface Target {
  flavour: Flavour;
  port: number;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Servers

/** Both servers know these users; the tests log in as USER. */
const USERS: ReadonlyArray<[string, string]> = [['bob', 'other'], [USER, PASSWORD]];

/** A SASL configuration directory for memcached -S: PLAIN over a cyrus sasldb holding USERS. */
async function memcachedSaslConfig(dir: string): Promise<string> {
  const db = path.join(dir, 'sasldb2');
  await writeFile(path.join(dir, 'memcached.conf'), `mech_list: plain\nsasldb_path: ${db}\n`);
  for (const [user, password] of USERS) {
    const made = spawnSync('saslpasswd2', ['-a', 'memcached', '-c', '-p', '-f', db, user], {
      input: password, timeout: 10_000, env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
    });
    if (made.error || made.status !== 0) {
      throw new Error(`saslpasswd2 (Debian sasl2-bin) could not create the memcached SASL database: ${made.error?.message ?? made.stderr.toString()}`);
    }
  }
  return dir;
}

async function startTarget(flavour: Flavour, dir: string, sasl: boolean): Promise<Target> {
  if (flavour === 'memgate') {
    const config: Record<string, unknown> = {};
    if (sasl) {
      const passwordFile = path.join(dir, 'memgate-passwords');
      await writeFile(passwordFile, USERS.map(([user, password]) => `${user}:${password}\n`).join(''));
      config['sasl'] = { passwordFile };
    }
    const gateway = await startGateway({ config });
    expect(gateway.config.items.sizeMax, 'these tests assume the default 1 MiB item limit').to.equal(ITEM_SIZE_MAX);
    return { flavour, port: gateway.port, stop: () => gateway.stop() };
  }
  if (!sasl) {
    const server = await startMemcached([]);
    return { flavour, port: server.port, stop: () => server.stop() };
  }
  // memcached reads SASL_CONF_PATH when it starts, so it only needs to be set while it spawns.
  const saved = process.env['SASL_CONF_PATH'];
  process.env['SASL_CONF_PATH'] = await memcachedSaslConfig(dir);
  try {
    const server = await startMemcached(['-S']);
    return { flavour, port: server.port, stop: () => server.stop() };
  } finally {
    if (saved === undefined) delete process.env['SASL_CONF_PATH'];
    else process.env['SASL_CONF_PATH'] = saved;
  }
}

// ---------------------------------------------------------------------------------------------
// libmemcached tools

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

/** The largest value memcached accepts under `key` with flags 0 (header + key + 1 + value + CRLF). */
function largestValue(key: string): number {
  return ITEM_SIZE_MAX - ITEM_HEADER_BYTES - (key.length + 1) - 2;
}

/** Every byte value 0..255, forwards then backwards, then some noise. */
function allByteValues(): Buffer {
  const up = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  return Buffer.concat([up, Buffer.from(up).reverse(), randomBytes(1000)]);
}

// ---------------------------------------------------------------------------------------------
// memjs

/** memjs logs every non-success status through its logger; keep the test output clean. */
const silent = { log: (): void => undefined };

/** memjs hands some failures over as bare strings; make them Errors. */
function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function memjsClient(port: number, credentials?: { username: string; password: string }, serializer?: Serializer<string | Buffer, Buffer | null>): Client {
  return Client.create(`127.0.0.1:${port}`, {
    ...credentials,
    // seconds; the gateway answers from a database, so allow more than memjs's 0.5 s default
    timeout: 5,
    conntimeout: 5,
    retries: 1,
    logger: silent,
    ...(serializer ? { serializer } : {}),
  });
}

/** A memjs call as a promise with a deadline, so no test can hang on a lost reply. */
function within<T>(promise: Promise<T>, timeoutMs = 8000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`memjs call timed out after ${timeoutMs} ms`)), timeoutMs);
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (err: unknown) => { clearTimeout(timer); reject(asError(err)); },
    );
  });
}

/**
 * One request through memjs's own connection and framing (Utils.makeRequestBuffer, perform),
 * for the opcodes memjs has no method for (version, noop, real prepend) and for a CAS on set.
 */
function memjsRaw(client: Client, opcode: number, key: string, extras: Buffer, value: Buffer | string, cas?: bigint): Promise<Response> {
  client.incrSeq();
  const seq = client.seq;
  const request = Utils.makeRequestBuffer(opcode, key, extras, value, seq);
  if (cas !== undefined) request.writeBigUInt64BE(cas, 16);
  return within(new Promise<Response>((resolve, reject) => {
    client.perform(key, request, seq, (err: Error | null, response?: Response) => {
      if (err) reject(asError(err));
      else if (!response) reject(new Error('memjs returned no response'));
      else resolve(response);
    });
  }));
}

function flagsAndExpiry(flags: number, expiry: number): Buffer {
  const extras = Buffer.alloc(8);
  extras.writeUInt32BE(flags, 0);
  extras.writeUInt32BE(expiry, 4);
  return extras;
}

/** memjs's stats() calls back once per server; we have one. */
function memjsStats(client: Client): Promise<Record<string, string>> {
  return within(new Promise((resolve, reject) => {
    client.stats((err, _server, stats) => {
      if (err) reject(asError(err));
      else resolve(stats ?? {});
    });
  }));
}

/** A serializer that stores the flags given in `flagsFor` and hands back what it read. */
function flagSerializer(flags: number): Serializer<string | Buffer, Buffer | null> {
  return {
    serialize: (_opcode, value, extras) => {
      const out = Buffer.from(extras);
      if (out.length >= 4) out.writeUInt32BE(flags, 0);
      return { value, extras: out };
    },
    deserialize: (_opcode, value, extras) => ({ value, extras }),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// Raw sockets

/** Sends `payload` and reads binary responses until `done` says stop; throws on close or timeout. */
async function exchangeBinary(port: number, payload: Buffer, done: (responses: Packet[]) => boolean, timeoutMs = 5000): Promise<Packet[]> {
  const conn = await RawConnection.open(port);
  try {
    await conn.send(payload);
    const res = await conn.readUntil((buf) => {
      const { packets, rest } = splitPackets(buf);
      return done(packets) ? buf.length - rest.length : -1;
    }, timeoutMs);
    const { packets, rest } = splitPackets(res.data);
    if (res.timedOut) throw new Error(`no complete binary exchange within ${timeoutMs} ms; got ${packets.length} responses and ${rest.length} spare bytes`);
    if (res.closed) throw new Error(`connection closed after ${packets.length} responses`);
    return packets;
  } finally {
    await conn.close();
  }
}

/** Every binary response in `data`, which must hold nothing else. */
function parseAll(data: Buffer): Packet[] {
  const { packets, rest } = splitPackets(data);
  expect(rest.length, 'bytes after the last whole response').to.equal(0);
  return packets;
}

/** Sends `payload` and reports what came back before the server closed (or the deadline). */
async function sendUntilClosed(port: number, payload: Buffer, timeoutMs = 3000): Promise<{ closed: boolean; received: Buffer }> {
  const conn = await RawConnection.open(port);
  try {
    await conn.send(payload);
    const res = await conn.readUntilClose(timeoutMs);
    return { closed: res.closed, received: res.data };
  } finally {
    await conn.close();
  }
}

// ---------------------------------------------------------------------------------------------
// php-memcached (libmemcached's C client inside PHP): the one real client here that pipelines
// quiet opcodes: getMulti sends GETKQ... NOOP, and OPT_NOREPLY turns set/delete/add into SETQ,
// DELETEQ, ADDQ. CAS is checked by comparing values, not the numbers, which differ per server.

const PHP_CLIENT_SCRIPT = String.raw`<?php
// argv: port, 'all', 'auth' (set + get) or 'read' (get only), [username password]
$m = new Memcached();
$m->setOption(Memcached::OPT_BINARY_PROTOCOL, true);
$m->setOption(Memcached::OPT_COMPRESSION, false);
$m->addServer('127.0.0.1', (int)$argv[1]);
if (isset($argv[3])) $m->setSaslAuthData($argv[3], $argv[4]);
$r = [];
$step = function (string $name, $value) use ($m, &$r) { $r[] = [$name, $value, $m->getResultCode()]; };
if ($argv[2] !== 'all') {
  if ($argv[2] === 'auth') $step('set', $m->set('s1', 'one from ' . ($argv[3] ?? 'nobody')));
  $step('get', $m->get('s1'));
  echo json_encode($r), "\n";
  exit(0);
}
$bytes = '';
for ($i = 0; $i < 256; $i++) $bytes .= chr($i);
$step('setMulti', $m->setMulti(['a' => 'A', 'b' => 'BB', 'empty' => '', 'bytes' => $bytes, 'int' => 42, 'float' => 1.5, 'array' => [1, 'two']]));
$step('getMulti', $m->getMulti(['a', 'missing', 'b', 'empty', 'int', 'float', 'array']));
$step('bytes', $m->get('bytes') === $bytes);
$ext = $m->getMulti(['a', 'int'], Memcached::GET_EXTENDED);
$step('flags', [$ext['a']['flags'], $ext['int']['flags']]);
$step('cas distinct', is_int($ext['a']['cas']) && $ext['a']['cas'] > 0 && $ext['a']['cas'] !== $ext['int']['cas']);
$step('cas', $m->cas($ext['a']['cas'], 'a', 'A2'));
$step('cas stale', $m->cas($ext['a']['cas'], 'a', 'A3'));
$step('cas missing', $m->cas(12345, 'missing', 'x'));
$m->setOption(Memcached::OPT_NOREPLY, true);
$step('noreply', [$m->set('q1', 'quiet1'), $m->set('q2', 'quiet2'), $m->delete('b'), $m->add('a', 'not added')]);
$m->setOption(Memcached::OPT_NOREPLY, false);
$step('after noreply', $m->getMulti(['q1', 'q2', 'b', 'a']));
$step('add', $m->add('a', 'x'));
$step('replace missing', $m->replace('missing', 'x'));
$step('append', $m->append('a', '>'));
$step('prepend', $m->prepend('a', '<'));
$step('append missing', $m->append('missing', '>'));
$step('get', $m->get('a'));
$step('increment', [$m->increment('ctr', 1, 5), $m->increment('ctr', 3, 5), $m->decrement('ctr', 100), $m->decrement('new-down', 1, 9)]);
$step('increment text', $m->increment('a', 1));
$step('touch', [$m->touch('a', 100), $m->touch('missing', 100)]);
$step('delete', [$m->delete('a'), $m->delete('a')]);
$step('get missing', $m->get('a'));
echo json_encode($r), "\n";
`;

/** Runs PHP_CLIENT_SCRIPT and returns its steps: [name, result, Memcached::getResultCode()]. */
async function runPhpClient(dir: string, args: string[]): Promise<Array<[string, unknown, number]>> {
  const script = path.join(dir, 'binary-client.php');
  await writeFile(script, PHP_CLIENT_SCRIPT);
  const run = await tool('php', ['-d', 'memcached.use_sasl=1', script, ...args], 20_000);
  expect(run.code, run.stderr).to.equal(0);
  return JSON.parse(run.stdout.toString('utf8')) as Array<[string, unknown, number]>;
}

// Memcached::RES_* codes (libmemcached's memcached_return_t)
const RES_SUCCESS = 0;
const RES_NOTSTORED = 14;
const RES_DATA_EXISTS = 12;
const RES_NOTFOUND = 16;
const RES_AUTH_FAILURE = 41;
/** MEMCACHED_CLIENT_ERROR: libmemcached's code for "Non-numeric server-side value for incr or decr" */
const RES_CLIENT_ERROR = 7;

// ---------------------------------------------------------------------------------------------
// npm memcached (text protocol) for the mixed tests

type Callback = (err: unknown, result?: unknown) => void;

/** The text client's callbacks as promises; NOT_STORED (an Error with notStored) becomes `false`. */
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

function textClient(port: number): Memcached {
  return new Memcached(`127.0.0.1:${port}`, {
    retries: 0, timeout: 3000, failures: 1, retry: 1000, reconnect: 1000, idle: 2000, poolSize: 25,
  });
}

// ---------------------------------------------------------------------------------------------

describe('e2e: real binary-protocol clients', function () {
  this.timeout(30_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-binary-'));
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const flavour of FLAVOURS) {
    describe(`against ${flavour}`, () => {
      describe('libmemcached tools --binary', () => {
        let target: Target;
        let servers: string;
        let files: string;

        before(async () => {
          target = await startTarget(flavour, dir, false);
          servers = `--servers=127.0.0.1:${target.port}`;
          files = await mkdtemp(path.join(dir, `tools-${flavour}-`));
        });

        after(async () => {
          await target?.stop();
        });

        it('memccp copies files in (text, all 256 byte values, empty, the largest item) and memccat reads them back byte-identical', async () => {
          const contents = new Map<string, Buffer>([
            ['text.txt', Buffer.from('first line\r\nsecond line\nEND\r\n', 'latin1')],
            ['all-bytes.bin', allByteValues()],
            ['empty.bin', Buffer.alloc(0)],
            ['largest.bin', randomBytes(largestValue('largest.bin'))],
          ]);
          expect(contents.get('largest.bin')!.length).to.be.within(ITEM_SIZE_MAX - 100, ITEM_SIZE_MAX);
          const paths = [...contents.keys()].map((name) => path.join(files, name));
          await Promise.all([...contents].map(([name, content]) => writeFile(path.join(files, name), content)));

          const copy = await tool('memccp', ['--binary', servers, ...paths]);
          expect(copy.code, copy.stderr).to.equal(0);

          for (const [name, content] of contents) {
            const out = path.join(files, `${name}.out`);
            const cat = await tool('memccat', ['--binary', servers, `--file=${out}`, name]);
            expect(cat.code, `${name}: ${cat.stderr}`).to.equal(0);
            const back = await readFile(out);
            expect(back.length, name).to.equal(content.length);
            expect(back.equals(content), `${name} comes back byte for byte`).to.equal(true);
            const exists = await tool('memcexist', ['--binary', servers, name]);
            expect(exists.code, `memcexist ${name}: ${exists.stderr}`).to.equal(0);
          }

          // on stdout memccat adds a newline after the value
          const stdout = await tool('memccat', ['--binary', servers, 'all-bytes.bin']);
          expect(stdout.code, stdout.stderr).to.equal(0);
          expect(stdout.stdout.equals(Buffer.concat([contents.get('all-bytes.bin')!, Buffer.from('\n')]))).to.equal(true);
        });

        it('memcrm removes an item; memcexist, memccat and a second memcrm then fail', async () => {
          const file = path.join(files, 'doomed.txt');
          await writeFile(file, 'short-lived');
          expect((await tool('memccp', ['--binary', servers, file])).code).to.equal(0);
          expect((await tool('memcexist', ['--binary', servers, 'doomed.txt'])).code).to.equal(0);

          const removed = await tool('memcrm', ['--binary', servers, 'doomed.txt']);
          expect(removed.code, removed.stderr).to.equal(0);
          expect((await tool('memcexist', ['--binary', servers, 'doomed.txt'])).code, 'memcexist after memcrm').to.not.equal(0);
          const gone = await tool('memccat', ['--binary', servers, 'doomed.txt']);
          expect(gone.code, 'memccat after memcrm').to.not.equal(0);
          expect(gone.stdout.length).to.equal(0);
          const again = await tool('memcrm', ['--binary', servers, 'doomed.txt']);
          expect(again.code, 'removing a missing key fails').to.not.equal(0);
        });

        it('an over-limit file fails with ITEM TOO BIG and leaves no stale item behind', async () => {
          const name = 'over-limit.bin';
          const file = path.join(files, name);
          await writeFile(file, 'an older, small version');
          expect((await tool('memccp', ['--binary', servers, file])).code).to.equal(0);
          expect((await tool('memccat', ['--binary', servers, name])).stdout.toString()).to.equal('an older, small version\n');

          // one byte more than the largest item memcached accepts under this key
          await writeFile(file, randomBytes(largestValue(name) + 1));
          const copy = await tool('memccp', ['--binary', servers, file]);
          expect(copy.code, 'memccp of an over-limit file').to.not.equal(0);
          expect(copy.stderr).to.include(`memcached_set('${name}'): ITEM TOO BIG`);

          // memcached drops the old item when a set is refused as too large
          const cat = await tool('memccat', ['--binary', servers, name]);
          expect(cat.code, 'the old version is gone too').to.not.equal(0);
          expect(cat.stdout.length).to.equal(0);
          expect((await tool('memcexist', ['--binary', servers, name])).code).to.not.equal(0);

          // and the connection state is fine afterwards: the largest size still goes in
          await writeFile(file, randomBytes(largestValue(name)));
          const fits = await tool('memccp', ['--binary', servers, file]);
          expect(fits.code, fits.stderr).to.equal(0);
        });

        it('32-bit flags survive memccp --flags / memccat --flags', async () => {
          const file = path.join(files, 'flagged.txt');
          await writeFile(file, 'flagged value');
          const copy = await tool('memccp', ['--binary', servers, '--flags=4294967295', file]);
          expect(copy.code, copy.stderr).to.equal(0);
          const cat = await tool('memccat', ['--binary', servers, '--flags', 'flagged.txt']);
          expect(cat.code, cat.stderr).to.equal(0);
          expect(cat.stdout.toString('latin1')).to.equal('4294967295\nflagged value\n');
        });

        it('memctouch succeeds on a present key and fails on a missing one', async () => {
          const file = path.join(files, 'touchable.txt');
          await writeFile(file, 'touch me');
          expect((await tool('memccp', ['--binary', servers, file])).code).to.equal(0);
          const touched = await tool('memctouch', ['--binary', servers, '--expire=3600', 'touchable.txt']);
          expect(touched.code, touched.stderr).to.equal(0);
          expect((await tool('memccat', ['--binary', servers, 'touchable.txt'])).stdout.toString()).to.equal('touch me\n');
          const missing = await tool('memctouch', ['--binary', servers, '--expire=3600', 'never-stored.txt']);
          expect(missing.code, 'touching a missing key fails').to.not.equal(0);
        });

        it('memcflush hides everything', async () => {
          const file = path.join(files, 'flushme.txt');
          await writeFile(file, 'soon gone');
          expect((await tool('memccp', ['--binary', servers, file])).code).to.equal(0);
          expect((await tool('memcexist', ['--binary', servers, 'flushme.txt'])).code).to.equal(0);
          const flush = await tool('memcflush', ['--binary', servers]);
          expect(flush.code, flush.stderr).to.equal(0);
          expect((await tool('memccat', ['--binary', servers, 'flushme.txt'])).code).to.not.equal(0);
          expect((await tool('memcexist', ['--binary', servers, 'text.txt'])).code, 'items stored earlier are gone too').to.not.equal(0);
        });

        it('memcstat --binary shows the server\'s stats and version', async () => {
          const stat = await tool('memcstat', ['--binary', servers]);
          expect(stat.code, stat.stderr).to.equal(0);
          const text = stat.stdout.toString('utf8');
          expect(text, stat.stderr).to.include(`Server: 127.0.0.1 (${target.port})`);
          expect(text).to.match(flavour === 'memgate' ? /\n\s*version: 1\.6\.18-memgate-\S+\n/ : /\n\s*version: 1\.6\.18\n/);
          expect(text).to.match(/\n\s*pid: \d+\n/);
          expect(text).to.match(/\n\s*curr_connections: [1-9]\d*\n/);
          // the earlier tests read items, so gets and sets were counted
          expect(text).to.match(/\n\s*cmd_get: [1-9]\d*\n/);
          expect(text).to.match(/\n\s*cmd_set: [1-9]\d*\n/);
        });
      });

      describe('libmemcached tools with SASL (--username/--password)', () => {
        let target: Target;
        let servers: string;
        let files: string;
        const auth = [`--username=${USER}`, `--password=${PASSWORD}`];

        before(async () => {
          target = await startTarget(flavour, dir, true);
          servers = `--servers=127.0.0.1:${target.port}`;
          files = await mkdtemp(path.join(dir, `sasl-tools-${flavour}-`));
        });

        after(async () => {
          await target?.stop();
        });

        it('with the right credentials memccp, memccat, memcexist, memcrm, memcflush, memcstat and memcping work', async () => {
          const content = allByteValues();
          const file = path.join(files, 'secret.bin');
          await writeFile(file, content);
          const copy = await tool('memccp', ['--binary', servers, ...auth, file]);
          expect(copy.code, copy.stderr).to.equal(0);

          const out = path.join(files, 'secret.out');
          const cat = await tool('memccat', ['--binary', servers, ...auth, `--file=${out}`, 'secret.bin']);
          expect(cat.code, cat.stderr).to.equal(0);
          expect((await readFile(out)).equals(content)).to.equal(true);
          expect((await tool('memcexist', ['--binary', servers, ...auth, 'secret.bin'])).code).to.equal(0);

          const stat = await tool('memcstat', ['--binary', servers, ...auth]);
          expect(stat.stdout.toString(), stat.stderr).to.match(/\n\s*version: 1\.6\.18\S*\n/);

          const ping = await tool('memcping', [servers, ...auth]);
          expect(ping.code, ping.stderr).to.equal(0);

          const removed = await tool('memcrm', ['--binary', servers, ...auth, 'secret.bin']);
          expect(removed.code, removed.stderr).to.equal(0);
          expect((await tool('memcexist', ['--binary', servers, ...auth, 'secret.bin'])).code).to.not.equal(0);

          expect((await tool('memccp', ['--binary', servers, ...auth, file])).code).to.equal(0);
          const flush = await tool('memcflush', ['--binary', servers, ...auth]);
          expect(flush.code, flush.stderr).to.equal(0);
          expect((await tool('memcexist', ['--binary', servers, ...auth, 'secret.bin'])).code).to.not.equal(0);
        });

        it('a wrong password or an unknown user fails with AUTHENTICATION FAILURE and stores nothing', async () => {
          const file = path.join(files, 'intruder.txt');
          await writeFile(file, 'should not land');
          for (const bad of [[`--username=${USER}`, '--password=wrong'], ['--username=mallory', `--password=${PASSWORD}`]]) {
            const copy = await tool('memccp', ['--binary', servers, ...bad, file]);
            expect(copy.code, bad.join(' ')).to.not.equal(0);
            expect(copy.stderr, bad.join(' ')).to.include('AUTHENTICATION FAILURE');
            const flush = await tool('memcflush', ['--binary', servers, ...bad]);
            expect(flush.code).to.not.equal(0);
            expect(flush.stderr).to.include('AUTHENTICATION FAILURE');
            const ping = await tool('memcping', [servers, ...bad]);
            expect(ping.code).to.not.equal(0);
            expect(ping.stderr).to.include('AUTHENTICATION FAILURE');
            const stat = await tool('memcstat', ['--binary', servers, ...bad]);
            expect(stat.stdout.toString()).to.not.include('version:');
            expect(stat.stderr).to.include('AUTHENTICATION FAILURE');
          }
          expect((await tool('memcexist', ['--binary', servers, ...auth, 'intruder.txt'])).code).to.not.equal(0);
        });

        it('without credentials memccp fails with AUTHENTICATION FAILURE and stores nothing', async () => {
          const file = path.join(files, 'anonymous.txt');
          await writeFile(file, 'should not land');
          const copy = await tool('memccp', ['--binary', servers, file]);
          expect(copy.code).to.not.equal(0);
          expect(copy.stderr).to.include(`memcached_set('anonymous.txt'): AUTHENTICATION FAILURE`);
          const cat = await tool('memccat', ['--binary', servers, 'anonymous.txt']);
          expect(cat.code).to.not.equal(0);
          expect(cat.stdout.length).to.equal(0);
          expect((await tool('memcexist', ['--binary', servers, ...auth, 'anonymous.txt'])).code).to.not.equal(0);
        });
      });

      describe('memjs', () => {
        let target: Target;
        let client: Client;

        before(async () => {
          target = await startTarget(flavour, dir, false);
        });

        after(async () => {
          await target?.stop();
        });

        beforeEach(() => {
          client = memjsClient(target.port);
        });

        afterEach(() => {
          client.close();
        });

        it('set, get, add, replace, delete', async () => {
          expect(await within(client.set('greeting', 'hello world'))).to.equal(true);
          const got = await within(client.get('greeting'));
          expect(got.value?.toString()).to.equal('hello world');
          expect(got.flags?.readUInt32BE(0)).to.equal(0);

          expect(await within(client.add('greeting', 'other'))).to.equal(false);
          expect((await within(client.get('greeting'))).value?.toString()).to.equal('hello world');
          expect(await within(client.add('fresh', 'first'))).to.equal(true);
          expect((await within(client.get('fresh'))).value?.toString()).to.equal('first');

          expect(await within(client.replace('greeting', 'replaced'))).to.equal(true);
          expect((await within(client.get('greeting'))).value?.toString()).to.equal('replaced');
          expect(await within(client.replace('no-such-key', 'x'))).to.equal(false);
          expect(await within(client.get('no-such-key'))).to.deep.equal({ value: null, flags: null });

          expect(await within(client.delete('greeting'))).to.equal(true);
          expect((await within(client.get('greeting'))).value).to.equal(null);
          expect(await within(client.delete('greeting'))).to.equal(false);
        });

        it('binary values with every byte value, an empty value and the largest item round-trip; one byte more is "Value too large"', async () => {
          const bytes = allByteValues();
          expect(await within(client.set('bytes', bytes))).to.equal(true);
          expect((await within(client.get('bytes'))).value?.equals(bytes)).to.equal(true);

          expect(await within(client.set('empty', ''))).to.equal(true);
          const empty = await within(client.get('empty'));
          expect(empty.value?.length).to.equal(0);

          const largest = randomBytes(largestValue('largest'));
          expect(await within(client.set('largest', largest))).to.equal(true);
          expect((await within(client.get('largest'))).value?.equals(largest)).to.equal(true);

          const tooLarge = await memjsRaw(client, Opcode.SET, 'largest', flagsAndExpiry(0, 0), Buffer.concat([largest, Buffer.from('x')]));
          expect(tooLarge.header.status).to.equal(Status.E2BIG);
          expect(tooLarge.val.toString()).to.equal('Too large.');
          // the refused set drops the item that was there, as memcached does
          expect((await within(client.get('largest'))).value).to.equal(null);
          await within(client.set('after-too-large', 'fine'));
          expect((await within(client.get('after-too-large'))).value?.toString()).to.equal('fine');
        });

        it('increment and decrement, with an initial value for a missing key', async () => {
          // a missing key is created with the initial value (the amount is not added)
          expect(await within(client.increment('counter', 5, { initial: 10 }))).to.deep.equal({ success: true, value: 10 });
          expect(await within(client.increment('counter', 5))).to.deep.equal({ success: true, value: 15 });
          // (memjs 1.3.2's promise form of decrement needs an options object)
          expect(await within(client.decrement('counter', 3, {}))).to.deep.equal({ success: true, value: 12 });
          // decr saturates at 0
          expect(await within(client.decrement('counter', 100, {}))).to.deep.equal({ success: true, value: 0 });
          expect(await within(client.increment('counter', 7))).to.deep.equal({ success: true, value: 7 });
          // the counter is stored as decimal text; memcached pads a shorter number with spaces
          expect((await within(client.get('counter'))).value?.toString()).to.equal('7 ');
          expect(await within(client.decrement('fresh-down', 1, { initial: 3 }))).to.deep.equal({ success: true, value: 3 });
          expect((await within(client.get('fresh-down'))).value?.toString()).to.equal('3');

          // the 64-bit counter wraps
          await within(client.set('wrap', '18446744073709551615'));
          const wrapped = await memjsRaw(client, Opcode.INCREMENT, 'wrap', Utils.makeAmountInitialAndExpiration(2, 0, 0), '');
          expect(wrapped.header.status).to.equal(Status.SUCCESS);
          expect(wrapped.val.readBigUInt64BE(0)).to.equal(1n);

          // an expiration of 0xffffffff means "do not create"
          const noCreate = await memjsRaw(client, Opcode.INCREMENT, 'never-created', Utils.makeAmountInitialAndExpiration(1, 0, 0xffffffff), '');
          expect(noCreate.header.status).to.equal(Status.KEY_ENOENT);
          expect((await within(client.get('never-created'))).value).to.equal(null);

          await within(client.set('word', 'not a number'));
          let failure: unknown;
          try {
            await within(client.increment('word', 1));
          } catch (err) {
            failure = err;
          }
          expect(String(failure)).to.include('Incr/Decr on non-numeric value');
        });

        it('append and prepend', async () => {
          await within(client.set('list', 'middle'));
          expect(await within(client.append('list', '>end'))).to.equal(true);
          // memjs 1.3.2's prepend() sends the APPEND opcode, so send a real PREPEND through its connection
          const prepended = await memjsRaw(client, Opcode.PREPEND, 'list', Buffer.alloc(0), 'start<');
          expect(prepended.header.status).to.equal(Status.SUCCESS);
          expect((await within(client.get('list'))).value?.toString()).to.equal('start<middle>end');

          // on a missing key memcached answers "Not stored." (status 5), which memjs turns into an error
          let failure: unknown;
          try {
            await within(client.append('absent-list', 'x'));
          } catch (err) {
            failure = err;
          }
          expect(String(failure)).to.include('MemJS APPEND: Item not stored');
          const absent = await memjsRaw(client, Opcode.PREPEND, 'absent-list', Buffer.alloc(0), 'x');
          expect(absent.header.status).to.equal(Status.NOT_STORED);
          expect((await within(client.get('absent-list'))).value).to.equal(null);
        });

        it('touch, and items with a short TTL expire', async () => {
          await within(client.set('ttl-set', 'brief', { expires: 1 }));
          await within(client.set('ttl-touched', 'brief too'));
          await within(client.set('ttl-none', 'stays'));
          expect(await within(client.touch('ttl-touched', 1))).to.equal(true);
          expect(await within(client.touch('ttl-missing', 100))).to.equal(false);
          expect((await within(client.get('ttl-set'))).value?.toString()).to.equal('brief');
          expect((await within(client.get('ttl-touched'))).value?.toString()).to.equal('brief too');

          await sleep(2500);
          expect((await within(client.get('ttl-set'))).value, 'set with a 1 s TTL').to.equal(null);
          expect((await within(client.get('ttl-touched'))).value, 'touched to a 1 s TTL').to.equal(null);
          expect((await within(client.get('ttl-none'))).value?.toString()).to.equal('stays');
          expect(await within(client.touch('ttl-set', 100)), 'an expired item cannot be touched').to.equal(false);
        });

        it('flush hides everything', async () => {
          await within(client.set('flush-a', 'A'));
          await within(client.set('flush-b', 'B'));
          expect(await within(client.flush())).to.deep.equal({ [`127.0.0.1:${target.port}`]: true });
          expect((await within(client.get('flush-a'))).value).to.equal(null);
          expect((await within(client.get('flush-b'))).value).to.equal(null);
          expect(await within(client.add('flush-a', 'again'))).to.equal(true);
        });

        it('stats count this client\'s gets, hits and misses; version and noop answer', async () => {
          const before = await memjsStats(client);
          // (memgate documents that it has no item-count stats such as curr_items)
          for (const name of ['pid', 'uptime', 'time', 'version', 'curr_connections', 'total_connections', 'cmd_get', 'cmd_set', 'get_hits', 'get_misses']) {
            expect(before, `stat ${name}`).to.have.property(name);
          }
          expect(before['version']).to.match(flavour === 'memgate' ? /^1\.6\.18-memgate-/ : /^1\.6\.18$/);

          await within(client.set('stat-key', 'v'));
          await within(client.get('stat-key'));
          await within(client.get('stat-key'));
          await within(client.get('stat-missing'));
          const after = await memjsStats(client);
          const delta = (name: string): number => Number(after[name]) - Number(before[name]);
          expect(delta('cmd_get')).to.equal(3);
          expect(delta('get_hits')).to.equal(2);
          expect(delta('get_misses')).to.equal(1);
          expect(delta('cmd_set')).to.equal(1);

          const version = await memjsRaw(client, Opcode.VERSION, '', Buffer.alloc(0), '');
          expect(version.header.status).to.equal(Status.SUCCESS);
          expect(version.val.toString()).to.equal(before['version']);
          const noop = await memjsRaw(client, Opcode.NOOP, '', Buffer.alloc(0), '');
          expect(noop.header.status).to.equal(Status.SUCCESS);
          expect(noop.header.totalBodyLength).to.equal(0);
        });

        it('quiet pipelining (memjs framing on one socket): quiet hits and errors answer, quiet successes and misses stay silent until the noop', async () => {
          const requests = [
            Utils.makeRequestBuffer(Opcode.SETQ, 'quiet-a', flagsAndExpiry(7, 0), 'one', 1),
            Utils.makeRequestBuffer(Opcode.SETQ, 'quiet-b', flagsAndExpiry(0, 0), 'two', 2),
            Utils.makeRequestBuffer(Opcode.ADDQ, 'quiet-a', flagsAndExpiry(0, 0), 'not added', 3),
            Utils.makeRequestBuffer(Opcode.GETKQ, 'quiet-a', '', '', 4),
            Utils.makeRequestBuffer(Opcode.GETKQ, 'quiet-missing', '', '', 5),
            Utils.makeRequestBuffer(Opcode.GETKQ, 'quiet-b', '', '', 6),
            Utils.makeRequestBuffer(Opcode.DELETEQ, 'quiet-missing', '', '', 7),
            Utils.makeRequestBuffer(Opcode.INCREMENTQ, 'quiet-a', Utils.makeAmountInitialAndExpiration(1, 0, 0), '', 8),
            Utils.makeRequestBuffer(Opcode.DELETEQ, 'quiet-b', '', '', 9),
            Utils.makeRequestBuffer(Opcode.GETKQ, 'quiet-b', '', '', 10),
            Utils.makeRequestBuffer(Opcode.NOOP, '', '', '', 11),
          ];
          const responses = await exchangeBinary(target.port, Buffer.concat(requests), (got) => got.some((r) => r.opcode === Opcode.NOOP));
          const summary = responses.map((r) => ({
            opcode: r.opcode, status: r.status, opaque: r.opaque,
            key: r.key.toString(), extras: r.extras.toString('hex'), value: r.value.toString(),
          }));
          expect(summary).to.deep.equal([
            { opcode: Opcode.ADDQ, status: Status.KEY_EEXISTS, opaque: 3, key: '', extras: '', value: 'Data exists for key.' },
            { opcode: Opcode.GETKQ, status: Status.SUCCESS, opaque: 4, key: 'quiet-a', extras: '00000007', value: 'one' },
            { opcode: Opcode.GETKQ, status: Status.SUCCESS, opaque: 6, key: 'quiet-b', extras: '00000000', value: 'two' },
            { opcode: Opcode.DELETEQ, status: Status.KEY_ENOENT, opaque: 7, key: '', extras: '', value: 'Not found' },
            { opcode: Opcode.INCREMENTQ, status: Status.DELTA_BADVAL, opaque: 8, key: '', extras: '', value: 'Non-numeric server-side value for incr or decr' },
            { opcode: Opcode.NOOP, status: Status.SUCCESS, opaque: 11, key: '', extras: '', value: '' },
          ]);
          // the two hits carry CAS values, different ones for different items
          const [, hitA, hitB] = responses;
          expect(hitA!.cas).to.not.equal(0n);
          expect(hitB!.cas).to.not.equal(hitA!.cas);
          expect((await within(client.get('quiet-b'))).value, 'the quiet delete happened').to.equal(null);
        });

        it('quit answers and then closes the connection', async () => {
          const outcome = await sendUntilClosed(target.port, Buffer.concat([
            Utils.makeRequestBuffer(Opcode.VERSION, '', '', '', 1),
            Utils.makeRequestBuffer(Opcode.QUIT, '', '', '', 2),
            Utils.makeRequestBuffer(Opcode.VERSION, '', '', '', 3),
          ]));
          expect(outcome.closed, 'the server closes the connection').to.equal(true);
          const responses = parseAll(outcome.received);
          expect(responses.map((r) => [r.opcode, r.status, r.opaque])).to.deep.equal([[Opcode.VERSION, 0, 1], [Opcode.QUIT, 0, 2]]);
        });
      });

      describe('memjs with SASL', () => {
        let target: Target;
        const clients: Client[] = [];
        const open = (credentials?: { username: string; password: string }): Client => {
          const client = memjsClient(target.port, credentials);
          clients.push(client);
          return client;
        };

        before(async () => {
          target = await startTarget(flavour, dir, true);
        });

        after(async () => {
          for (const client of clients) client.close();
          await target?.stop();
        });

        it('the right credentials work', async () => {
          const client = open({ username: USER, password: PASSWORD });
          expect(await within(client.set('sasl-key', 'authorised'))).to.equal(true);
          expect((await within(client.get('sasl-key'))).value?.toString()).to.equal('authorised');
          expect(await within(client.increment('sasl-counter', 1, { initial: 41 }))).to.deep.equal({ success: true, value: 41 });
          expect(await within(client.delete('sasl-key'))).to.equal(true);
        });

        it('a wrong password, an unknown user, or no credentials fail with an authentication error', async () => {
          const cases: Array<[string, { username: string; password: string } | undefined]> = [
            ['wrong password', { username: USER, password: 'wrong' }],
            ['unknown user', { username: 'mallory', password: PASSWORD }],
            ['another user\'s password', { username: 'bob', password: PASSWORD }],
            ['no credentials', undefined],
          ];
          for (const [label, credentials] of cases) {
            const client = open(credentials);
            let failure: unknown;
            try {
              await within(client.set('sasl-intruder', 'x'));
            } catch (err) {
              failure = err;
            }
            expect(String(failure), label).to.include('authentication failed');
          }
          const allowed = open({ username: USER, password: PASSWORD });
          expect((await within(allowed.get('sasl-intruder'))).value, 'nothing was stored').to.equal(null);
        });

        it('without authentication only version answers; another command gets "Auth failure." and the connection is closed', async () => {
          const outcome = await sendUntilClosed(target.port, Buffer.concat([
            Utils.makeRequestBuffer(Opcode.VERSION, '', '', '', 1),
            Utils.makeRequestBuffer(Opcode.GET, 'sasl-key', '', '', 2),
            Utils.makeRequestBuffer(Opcode.NOOP, '', '', '', 3),
          ]));
          expect(outcome.closed, 'the server closes the connection').to.equal(true);
          const responses = parseAll(outcome.received);
          expect(responses.map((r) => [r.opcode, r.status, r.opaque, r.value.toString()])).to.deep.equal([
            [Opcode.VERSION, 0, 1, responses[0]?.value.toString()],
            [Opcode.GET, 0x20, 2, 'Auth failure.'],
          ]);
          expect(responses[0]!.value.toString()).to.match(/^1\.6\.18/);
        });

        it('a text-protocol client is disconnected without a reply', async () => {
          // memcached -S serves binary only: a text line is read as a bad binary header
          const outcome = await sendUntilClosed(target.port, Buffer.from('get some-key another-key and-more\r\n', 'latin1'));
          expect(outcome.closed, 'the server closes the connection').to.equal(true);
          expect(outcome.received.toString('latin1')).to.equal('');
        });
      });

      describe('php-memcached (libmemcached) --binary', () => {
        let target: Target;
        let saslTarget: Target;

        before(async () => {
          target = await startTarget(flavour, dir, false);
          saslTarget = await startTarget(flavour, dir, true);
        });

        after(async () => {
          await target?.stop();
          await saslTarget?.stop();
        });

        it('pipelined multi-get (GETKQ... NOOP), noreply writes (SETQ, DELETEQ, ADDQ), cas, typed flags and the other commands', async () => {
          const steps = await runPhpClient(dir, [String(target.port), 'all']);
          expect(steps).to.deep.equal([
            ['setMulti', true, RES_SUCCESS],
            ['getMulti', { a: 'A', b: 'BB', empty: '', int: 42, float: 1.5, array: [1, 'two'] }, RES_SUCCESS],
            ['bytes', true, RES_SUCCESS],
            ['flags', [0, 0], RES_SUCCESS],
            ['cas distinct', true, RES_SUCCESS],
            ['cas', true, RES_SUCCESS],
            ['cas stale', false, RES_DATA_EXISTS],
            ['cas missing', false, RES_NOTFOUND],
            ['noreply', [true, true, true, true], RES_SUCCESS],
            ['after noreply', { q1: 'quiet1', q2: 'quiet2', a: 'A2' }, RES_SUCCESS],
            ['add', false, RES_DATA_EXISTS],
            ['replace missing', false, RES_NOTFOUND],
            ['append', true, RES_SUCCESS],
            ['prepend', true, RES_SUCCESS],
            ['append missing', false, RES_NOTSTORED],
            ['get', '<A2>', RES_SUCCESS],
            ['increment', [5, 8, 0, 9], RES_SUCCESS],
            ['increment text', false, RES_CLIENT_ERROR],
            ['touch', [true, false], RES_NOTFOUND],
            ['delete', [true, false], RES_NOTFOUND],
            ['get missing', false, RES_NOTFOUND],
          ]);
        });

        it('SASL: the right credentials work; a wrong password or none fail with AUTHENTICATION FAILURE', async () => {
          expect(await runPhpClient(dir, [String(saslTarget.port), 'auth', USER, PASSWORD])).to.deep.equal([
            ['set', true, RES_SUCCESS],
            ['get', `one from ${USER}`, RES_SUCCESS],
          ]);
          const wrong = await runPhpClient(dir, [String(saslTarget.port), 'auth', USER, 'wrong']);
          expect(wrong[0]).to.deep.equal(['set', false, RES_AUTH_FAILURE]);
          expect(wrong[1]?.[1]).to.equal(false);
          const anonymous = await runPhpClient(dir, [String(saslTarget.port), 'auth']);
          expect(anonymous[0]).to.deep.equal(['set', false, RES_AUTH_FAILURE]);
          expect(anonymous[1]?.[1]).to.equal(false);
          // neither overwrote the item
          expect(await runPhpClient(dir, [String(saslTarget.port), 'read', USER, PASSWORD])).to.deep.equal([['get', `one from ${USER}`, RES_SUCCESS]]);
        });
      });

      describe('text and binary clients on one port', () => {
        let target: Target;
        let text: Memcached;
        let binary: Client;

        before(async () => {
          target = await startTarget(flavour, dir, false);
          text = textClient(target.port);
          binary = memjsClient(target.port);
        });

        after(async () => {
          text?.end();
          binary?.close();
          await target?.stop();
        });

        it('both see each other\'s writes while working at the same time', async () => {
          const keys = Array.from({ length: 20 }, (_, i) => i);
          await Promise.all([
            ...keys.map((i) => call((cb) => text.set(`mix-text-${i}`, `from text ${i}`, 0, cb))),
            ...keys.map((i) => within(binary.set(`mix-binary-${i}`, `from binary ${i}`))),
          ]);
          const [textViews, binaryViews] = await Promise.all([
            Promise.all(keys.map((i) => call<string>((cb) => text.get(`mix-binary-${i}`, cb)))),
            Promise.all(keys.map(async (i) => (await within(binary.get(`mix-text-${i}`))).value?.toString())),
          ]);
          expect(textViews).to.deep.equal(keys.map((i) => `from binary ${i}`));
          expect(binaryViews).to.deep.equal(keys.map((i) => `from text ${i}`));

          // one counter bumped from both sides at once loses no update
          await call((cb) => text.set('mix-counter', '0', 0, cb));
          await Promise.all([
            ...keys.map(() => call((cb) => text.incr('mix-counter', 1, cb))),
            ...keys.map(() => within(binary.increment('mix-counter', 2))),
          ]);
          expect(await call((cb) => text.get('mix-counter', cb))).to.equal(String(keys.length * 3));
        });

        it('flags and bytes written by one protocol are what the other reads', async () => {
          // the text client flags JSON with 2; a binary get hands the flags back in its extras
          const object = { name: 'memgate', list: [1, 2, 3] };
          await call((cb) => text.set('mix-json', object, 0, cb));
          const json = await within(binary.get('mix-json'));
          expect(json.flags?.readUInt32BE(0)).to.equal(2);
          expect(JSON.parse(json.value?.toString() ?? 'null')).to.deep.equal(object);

          // flags set through the binary extras decide how the text client decodes
          const flagged = memjsClient(target.port, undefined, flagSerializer(8));
          try {
            expect(await within(flagged.set('mix-number', '12.5'))).to.equal(true);
          } finally {
            flagged.close();
          }
          expect(await call((cb) => text.get('mix-number', cb))).to.equal(12.5);

          // bytes with CR LF, NUL and every other value, written binary, read by a raw text get
          const bytes = allByteValues();
          await within(binary.set('mix-bytes', bytes));
          const raw = await exchangeText(target.port, 'get mix-bytes\r\n');
          expect(raw.equals(Buffer.concat([Buffer.from(`VALUE mix-bytes 0 ${bytes.length}\r\n`), bytes, Buffer.from('\r\nEND\r\n')]))).to.equal(true);
        });

        it('a text gets CAS is accepted by a binary set-with-CAS once; a binary get CAS by a text cas', async () => {
          await call((cb) => text.set('mix-cas', 'v1', 0, cb));
          const first = await call<{ 'mix-cas': string; cas: string }>((cb) => text.gets('mix-cas', cb));
          expect(first['mix-cas']).to.equal('v1');

          const stored = await memjsRaw(binary, Opcode.SET, 'mix-cas', flagsAndExpiry(0, 0), 'v2', BigInt(first.cas));
          expect(stored.header.status, 'binary set with the text CAS').to.equal(Status.SUCCESS);
          const newCas = stored.header.cas.readBigUInt64BE(0);
          expect(newCas).to.not.equal(BigInt(first.cas));
          const stale = await memjsRaw(binary, Opcode.SET, 'mix-cas', flagsAndExpiry(0, 0), 'v3', BigInt(first.cas));
          expect(stale.header.status, 'the same CAS again is stale').to.equal(Status.KEY_EEXISTS);
          expect(stale.val.toString()).to.equal('Data exists for key.');
          expect(await call((cb) => text.get('mix-cas', cb))).to.equal('v2');

          // the CAS a binary set returned is the one text gets reports
          const second = await call<{ 'mix-cas': string; cas: string }>((cb) => text.gets('mix-cas', cb));
          expect(BigInt(second.cas)).to.equal(newCas);

          const got = await memjsRaw(binary, Opcode.GET, 'mix-cas', Buffer.alloc(0), '');
          const binaryCas = got.header.cas.readBigUInt64BE(0);
          expect(binaryCas).to.equal(newCas);
          expect(await call((cb) => text.cas('mix-cas', 'v4', String(binaryCas), 0, cb))).to.equal(true);
          expect(await call((cb) => text.cas('mix-cas', 'v5', String(binaryCas), 0, cb)), 'stale text cas').to.equal(false);
          expect((await within(binary.get('mix-cas'))).value?.toString()).to.equal('v4');

          // a binary add under an existing key fails for both views alike
          const add = await memjsRaw(binary, Opcode.ADD, 'mix-cas', flagsAndExpiry(0, 0), 'v6');
          expect(add.header.status).to.equal(Status.KEY_EEXISTS);
          // binary delete with a stale CAS is refused, with the current one it works
          const staleDelete = await memjsRaw(binary, Opcode.DELETE, 'mix-cas', Buffer.alloc(0), '', binaryCas);
          expect(staleDelete.header.status).to.equal(Status.KEY_EEXISTS);
          const current = await call<{ 'mix-cas': string; cas: string }>((cb) => text.gets('mix-cas', cb));
          const deleted = await memjsRaw(binary, Opcode.DELETE, 'mix-cas', Buffer.alloc(0), '', BigInt(current.cas));
          expect(deleted.header.status).to.equal(Status.SUCCESS);
          expect(await call((cb) => text.get('mix-cas', cb))).to.equal(undefined);
        });
      });
    });
  }
});

/** One text request on a fresh socket, read up to the END line. */
async function exchangeText(port: number, request: string, timeoutMs = 5000): Promise<Buffer> {
  const conn = await RawConnection.open(port);
  try {
    await conn.send(request);
    const res = await conn.readUntil((buf) => (buf.subarray(-5).toString('latin1') === 'END\r\n' ? buf.length : -1), timeoutMs);
    if (res.closed || res.timedOut) throw new Error(`no END within ${timeoutMs} ms; got ${JSON.stringify(res.data.toString('latin1').slice(0, 200))}`);
    return res.data;
  } finally {
    await conn.close();
  }
}
