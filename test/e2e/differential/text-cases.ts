/**
 * Exchange corpus for the text-protocol differential test
 * (text-protocol.test.ts): every case is replayed byte-for-byte against the
 * real memcached 1.6.18 and against memgate, and the replies are compared.
 *
 * Conventions
 * - Every case gets its own key prefix (`k('name')` → `<prefix>name`), so
 *   cases cannot see each other's items. Both servers start empty.
 * - A step is the bytes to send plus optional timing/reading options. By
 *   default the harness appends `version\r\n` and reads up to the VERSION line
 *   (see test/helpers/raw-connection.ts); a step must therefore leave the
 *   connection in command state (no half-sent data block) unless it uses
 *   mode 'quiet' (collect for a while, no sentinel) or 'close'.
 * - Strings are sent as latin1, so '\xff' is the single byte 0xff.
 * - Steps that depend on earlier replies (cas uniques) use a function that
 *   gets the per-server context.
 * - Cases that depend on the clock are marked `timing` and kept at the end.
 */

import { LAST_META_CAS } from '../../helpers/reply-masking.js';

export type Payload = string | Buffer;

export interface StepContext {
  /** The cas unique most recently returned for `key` (by gets/gats) on this server, in this case. */
  cas(key: string): string;
}

export interface Step {
  send: Payload | ((ctx: StepContext) => Payload);
  /** Sleep before sending (ms). */
  sleepMs?: number;
  /** Split the payload (including the sentinel) into writes of this many bytes. */
  chunkSize?: number;
  /** Delay between chunk writes (ms). */
  chunkDelayMs?: number;
  /** How the reply is collected (default 'sentinel'). */
  mode?: 'sentinel' | 'close' | 'quiet';
  /** For 'quiet': how long to collect (ms). */
  quietMs?: number;
  /** Upper bound for reading this step's reply (ms). */
  timeoutMs?: number;
  /** Open a fresh connection before this step (the previous one is closed). */
  newConnection?: boolean;
}

export interface TextCase {
  name: string;
  /** Unique key prefix of this case. */
  prefix: string;
  steps: Step[];
  /** Run against memcached -F / memgate { flushAll: { enabled: false } }. */
  flushDisabled?: boolean;
  /** Depends on the wall clock (expiry); runs last. */
  timing?: boolean;
  /** Compare replies only structurally (stats). */
  structuralOnly?: boolean;
}

/** memcached's default item size limit (-I 1m). */
export const ITEM_SIZE_MAX = 1024 * 1024;

/**
 * Largest value memcached 1.6.18 (64-bit, cas enabled, default -I 1m)
 * accepts for a key of `nkey` bytes: 48 (item header) + nkey + 1 +
 * (flags ? 4 : 0) + bytes + 2 + 8 (cas) must be <= 1048576.
 */
export function maxValueLength(nkey: number, flags: number): number {
  return ITEM_SIZE_MAX - 48 - (nkey + 1) - (flags !== 0 ? 4 : 0) - 2 - 8;
}

type StepLike = Step | Payload | ((ctx: StepContext) => Payload);

function toStep(s: StepLike): Step {
  if (typeof s === 'string' || Buffer.isBuffer(s) || typeof s === 'function') return { send: s };
  return s;
}

const cases: TextCase[] = [];
let caseCounter = 0;

function def(
  name: string,
  build: (k: (suffix?: string) => string, prefix: string) => StepLike[],
  opts: { flushDisabled?: boolean; timing?: boolean; structuralOnly?: boolean } = {},
): void {
  caseCounter += 1;
  const prefix = `d${String(caseCounter).padStart(3, '0')}_`;
  const k = (suffix = ''): string => prefix + suffix;
  cases.push({ name, prefix, steps: build(k, prefix).map(toStep), ...opts });
}

/** `set <key> <flags> <exptime> <len>\r\n<value>\r\n` */
function set(key: string, value: string, flags = 0, exptime: number | string = 0, cmd = 'set', extra = ''): string {
  return `${cmd} ${key} ${flags} ${exptime} ${Buffer.byteLength(value, 'latin1')}${extra}\r\n${value}\r\n`;
}

/** A key of exactly `len` bytes starting with `prefix`. */
function keyOfLength(prefix: string, len: number): string {
  return (prefix + 'K'.repeat(Math.max(0, len))).slice(0, len);
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

// ───────────────────────────── storage commands ─────────────────────────────

def('set/get/gets basics, overwrite, miss', (k) => [
  set(k('a'), 'hello'),
  `get ${k('a')}\r\n`,
  `gets ${k('a')}\r\n`,
  set(k('a'), 'world!', 42),
  `get ${k('a')}\r\n`,
  `get ${k('missing')}\r\n`,
  `gets ${k('missing')}\r\n`,
  `set ${k('b')} 0 0 5\r\nabcde\r\nget ${k('b')}\r\n`,
]);

def('add: new, existing, after delete', (k) => [
  set(k('a'), 'one', 0, 0, 'add'),
  set(k('a'), 'two', 0, 0, 'add'),
  `get ${k('a')}\r\n`,
  `delete ${k('a')}\r\n`,
  set(k('a'), 'three', 5, 0, 'add'),
  `get ${k('a')}\r\n`,
]);

def('replace: missing, existing', (k) => [
  set(k('a'), 'one', 0, 0, 'replace'),
  `get ${k('a')}\r\n`,
  set(k('a'), 'one', 3),
  set(k('a'), 'two', 9, 0, 'replace'),
  `get ${k('a')}\r\n`,
]);

def('append/prepend: missing, existing, flags and exptime of the request are ignored', (k) => [
  set(k('a'), 'x', 0, 0, 'append'),
  set(k('a'), 'x', 0, 0, 'prepend'),
  `get ${k('a')}\r\n`,
  set(k('a'), 'bb', 7),
  set(k('a'), 'cc', 9, -1, 'append'),
  set(k('a'), 'aa', 3, -1, 'prepend'),
  `get ${k('a')}\r\n`,
  set(k('e'), ''),
  set(k('e'), 'tail', 0, 0, 'append'),
  set(k('e'), '', 0, 0, 'prepend'),
  `get ${k('e')}\r\n`,
  set(k('bin'), 'a\r\nb'),
  set(k('bin'), '\x00\r\n', 0, 0, 'append'),
  `get ${k('bin')}\r\n`,
]);

def('cas: NOT_FOUND, EXISTS, STORED, stale unique, after delete', (k) => [
  `cas ${k('a')} 0 0 1 1\r\nx\r\n`,
  set(k('a'), 'x'),
  `gets ${k('a')}\r\n`,
  `cas ${k('a')} 0 0 1 18446744073709551615\r\ny\r\n`,
  `get ${k('a')}\r\n`,
  (ctx) => `cas ${k('a')} 5 0 1 ${ctx.cas(k('a'))}\r\nz\r\n`,
  `get ${k('a')}\r\n`,
  (ctx) => `cas ${k('a')} 0 0 1 ${ctx.cas(k('a'))}\r\nw\r\n`,
  `get ${k('a')}\r\n`,
  `gets ${k('a')}\r\n`,
  `cas ${k('a')} 0 0 1 0\r\nq\r\n`,
  (ctx) => `delete ${k('a')}\r\ncas ${k('a')} 0 0 1 ${ctx.cas(k('a'))}\r\nv\r\n`,
  `get ${k('a')}\r\n`,
]);

def('cas: bad unique, noreply', (k) => [
  set(k('a'), 'x'),
  `cas ${k('a')} 0 0 1 abc\r\ny\r\n`,
  `cas ${k('a')} 0 0 1 -1\r\ny\r\n`,
  `cas ${k('a')} 0 0 1 18446744073709551616\r\ny\r\n`,
  `cas ${k('a')} 0 0 1 1x\r\ny\r\n`,
  `gets ${k('a')}\r\n`,
  `cas ${k('a')} 0 0 1 18446744073709551615 noreply\r\ny\r\n`,
  (ctx) => `cas ${k('a')} 0 0 1 ${ctx.cas(k('a'))} noreply\r\nz\r\n`,
  `get ${k('a')}\r\n`,
  `cas ${k('nope')} 0 0 1 1 noreply\r\nz\r\n`,
  `cas ${k('a')} 0 0 1\r\nz\r\n`,
  `cas ${k('a')} 0 0 1 1 noreply extra\r\nz\r\n`,
]);

def('which commands change the cas unique (incr/decr/append/prepend do, touch/gat do not)', (k) => {
  const steps: StepLike[] = [];
  const mutators: Array<[string, string]> = [
    ['touch', `touch ${k('a')} 1000\r\n`],
    ['gat', `gat 1000 ${k('a')}\r\n`],
    ['get', `get ${k('a')}\r\n`],
    ['incr', `incr ${k('a')} 1\r\n`],
    ['decr', `decr ${k('a')} 1\r\n`],
    ['append', `append ${k('a')} 0 0 1\r\n0\r\n`],
    ['prepend', `prepend ${k('a')} 0 0 1\r\n1\r\n`],
    ['failed add', `add ${k('a')} 0 0 1\r\n9\r\n`],
    ['failed incr', `incr ${k('a')} abc\r\n`],
  ];
  for (const [, cmd] of mutators) {
    steps.push(set(k('a'), '10'), `gets ${k('a')}\r\n`, cmd, (ctx) => `cas ${k('a')} 0 0 2 ${ctx.cas(k('a'))}\r\n42\r\n`, `get ${k('a')}\r\n`);
  }
  steps.push(
    set(k('b'), '1'),
    `gets ${k('b')}\r\n`,
    set(k('b'), '1'),
    (ctx) => `cas ${k('b')} 0 0 1 ${ctx.cas(k('b'))}\r\n2\r\n`,
    `gets ${k('b')}\r\n`,
    (ctx) => `cas ${k('b')} 0 0 1 ${ctx.cas(k('b'))} noreply\r\n3\r\n`,
    (ctx) => `cas ${k('b')} 0 0 1 ${ctx.cas(k('b'))}\r\n4\r\n`,
    `get ${k('b')}\r\n`,
  );
  return steps;
});

def('multi-get with hits, misses and duplicate keys; gets multi', (k) => [
  set(k('a'), 'A', 1),
  set(k('b'), 'BB', 2),
  set(k('c'), ''),
  `get ${k('a')} ${k('x')} ${k('b')} ${k('a')} ${k('y')} ${k('c')} ${k('b')}\r\n`,
  `gets ${k('a')} ${k('x')} ${k('b')} ${k('a')}\r\n`,
  `get ${k('x')} ${k('y')}\r\n`,
  `get  ${k('a')}   ${k('b')}  \r\n`,
  `get ${k('a')} noreply\r\n`,
  `gets ${k('b')} noreply\r\n`,
]);

def('large multi-get response (60 values of 20 KB)', (k) => {
  const steps: StepLike[] = [];
  const keys: string[] = [];
  let batch = '';
  for (let i = 0; i < 60; i++) {
    const key = k(`v${i}`);
    keys.push(key);
    batch += set(key, String.fromCharCode(65 + (i % 26)).repeat(20_000 + i), i);
  }
  steps.push(batch, `get ${keys.join(' ')}\r\n`, `gets ${keys.slice(0, 10).join(' ')}\r\n`);
  return steps;
});

def('get with more than 24 tokens (re-tokenized)', (k) => {
  const keys = Array.from({ length: 60 }, (_, i) => k(`t${i}`));
  return [
    set(k('t3'), 'three'),
    set(k('t22'), '22'),
    set(k('t23'), '23'),
    set(k('t24'), '24'),
    set(k('t59'), 'last'),
    `get ${keys.join(' ')}\r\n`,
    `gets ${keys.slice(0, 30).join(' ')}\r\n`,
    `get ${keys.slice(0, 22).join(' ')} ${k('t23')}\r\n`,
    `get ${keys.slice(0, 23).join(' ')}\r\n`,
    `get ${keys.slice(0, 24).join(' ')}\r\n`,
    `gat 0 ${keys.slice(0, 30).join(' ')}\r\n`,
    `get ${Array.from({ length: 200 }, (_, i) => k(`m${i}`)).join(' ')} ${k('t3')}\r\n`,
  ];
});

def('non-get commands with more than 23 tokens', (k) => {
  const junk = Array.from({ length: 25 }, (_, i) => `j${i}`).join(' ');
  return [
    set(k('a'), '1'),
    `set ${k('a')} 0 0 1 ${junk}\r\nx\r\n`,
    `incr ${k('a')} 1 ${junk}\r\n`,
    `delete ${k('a')} ${junk}\r\n`,
    `touch ${k('a')} 1 ${junk}\r\n`,
    `flush_all ${junk}\r\n`,
    `verbosity ${junk}\r\n`,
    `version ${junk}\r\n`,
    `bogus ${junk}\r\n`,
    `get ${k('a')}\r\n`,
  ];
});

def('gat/gats/touch', (k) => [
  `touch ${k('a')} 10\r\n`,
  set(k('a'), 'val', 3),
  `touch ${k('a')} 100\r\n`,
  `touch ${k('a')} 0\r\n`,
  `gat 100 ${k('a')}\r\n`,
  `gats 100 ${k('a')} ${k('missing')} ${k('a')}\r\n`,
  `gat 0 ${k('missing')}\r\n`,
  `gat 0\r\n`,
  `gats 0\r\n`,
  `gat\r\n`,
  `gat abc ${k('a')}\r\n`,
  `gats 1x ${k('a')}\r\n`,
  `gat -1x ${k('a')}\r\n`,
  `touch ${k('a')} abc\r\n`,
  `touch ${k('a')} 1.5\r\n`,
  `touch ${k('a')}\r\n`,
  `touch ${k('a')} 1 2 3\r\n`,
  `touch ${k('a')} 100 2\r\n`,
  `get ${k('a')}\r\n`,
  `touch ${k('a')} 0 noreply\r\n`,
  `touch ${k('missing')} 0 noreply\r\n`,
  `touch ${k('a')} abc noreply\r\n`,
  `gat -1 ${k('a')}\r\n`,
  `get ${k('a')}\r\n`,
  set(k('b'), 'b'),
  `touch ${k('b')} -1\r\n`,
  `get ${k('b')}\r\n`,
  set(k('c'), 'c'),
  `gat 2678400 ${k('c')}\r\n`,
  `get ${k('c')}\r\n`,
  set(k('d'), 'd', 0, -1),
  `touch ${k('d')} 0\r\n`,
  set(k('e'), 'e'),
  `touch ${k('e')} 4294967296\r\n`,
  `get ${k('e')}\r\n`,
  `touch ${k('e')} 2147483648\r\n`,
  `get ${k('e')}\r\n`,
  set(k('f'), 'f'),
  `gats 9999999999 ${k('f')}\r\n`,
  `get ${k('f')}\r\n`,
  set(k('g'), 'g'),
  `gat 99999999999999999999 ${k('g')}\r\n`,
  `touch ${k('g')} 99999999999999999999\r\n`,
  `get ${k('g')}\r\n`,
]);

def('delete variants', (k) => [
  set(k('a'), 'x'),
  `delete ${k('a')}\r\n`,
  `delete ${k('a')}\r\n`,
  set(k('a'), 'x'),
  `delete ${k('a')} 0\r\n`,
  `get ${k('a')}\r\n`,
  set(k('a'), 'x'),
  `delete ${k('a')} 0 noreply\r\n`,
  `get ${k('a')}\r\n`,
  set(k('a'), 'x'),
  `delete ${k('a')} noreply\r\n`,
  `get ${k('a')}\r\n`,
  `delete ${k('a')} noreply\r\n`,
  set(k('a'), 'x'),
  `delete ${k('a')} 5\r\n`,
  `delete ${k('a')} 5 noreply\r\n`,
  `delete ${k('a')} 0 0\r\n`,
  `delete ${k('a')} 00\r\n`,
  `delete ${k('a')} noreply 0\r\n`,
  `delete ${k('a')} -1\r\n`,
  `get ${k('a')}\r\n`,
  `delete ${k('a')} a b c\r\n`,
  `delete\r\n`,
  `delete ${k('a')} 0 noreply x\r\n`,
  `get ${k('a')}\r\n`,
]);

// ───────────────────────────── incr / decr ─────────────────────────────

def('incr/decr basics, NOT_FOUND, flags kept', (k) => [
  `incr ${k('n')} 1\r\n`,
  `decr ${k('n')} 1\r\n`,
  set(k('n'), '10', 5),
  `incr ${k('n')} 5\r\n`,
  `get ${k('n')}\r\n`,
  `decr ${k('n')} 3\r\n`,
  `get ${k('n')}\r\n`,
  `incr ${k('n')} 0\r\n`,
  set(k('m'), '9'),
  `incr ${k('m')} 1\r\n`,
  `get ${k('m')}\r\n`,
  `incr ${k('m')} 990\r\n`,
  `get ${k('m')}\r\n`,
  `incr ${k('n')} 1 foo\r\n`,
]);

def('incr wraps at 2^64, decr floors at 0', (k) => [
  set(k('w'), '18446744073709551615'),
  `incr ${k('w')} 1\r\n`,
  `get ${k('w')}\r\n`,
  set(k('w'), '18446744073709551615'),
  `incr ${k('w')} 2\r\n`,
  `get ${k('w')}\r\n`,
  set(k('w'), '18446744073709551614'),
  `incr ${k('w')} 1\r\n`,
  `get ${k('w')}\r\n`,
  set(k('x'), '1'),
  `incr ${k('x')} 18446744073709551615\r\n`,
  set(k('d'), '5'),
  `decr ${k('d')} 6\r\n`,
  `get ${k('d')}\r\n`,
  `decr ${k('d')} 1\r\n`,
  set(k('d'), '15'),
  `decr ${k('d')} 100\r\n`,
  `get ${k('d')}\r\n`,
  set(k('d'), '5'),
  `decr ${k('d')} 18446744073709551615\r\n`,
  `decr ${k('d')} 5\r\n`,
]);

def('decr that shortens the number is space-padded; incr that lengthens grows', (k) => [
  set(k('n'), '100'),
  `decr ${k('n')} 1\r\n`,
  `get ${k('n')}\r\n`,
  `gets ${k('n')}\r\n`,
  `incr ${k('n')} 1\r\n`,
  `get ${k('n')}\r\n`,
  `decr ${k('n')} 91\r\n`,
  `get ${k('n')}\r\n`,
  `incr ${k('n')} 991\r\n`,
  `get ${k('n')}\r\n`,
  `append ${k('n')} 0 0 1\r\n5\r\n`,
  `get ${k('n')}\r\n`,
  set(k('p'), '1000000'),
  `decr ${k('p')} 999999\r\n`,
  `get ${k('p')}\r\n`,
  `incr ${k('p')} 8\r\n`,
  `get ${k('p')}\r\n`,
]);

def('incr on odd stored values (leading spaces, trailing junk, sign, NUL, empty)', (k) => [
  set(k('sp'), '  12'),
  `incr ${k('sp')} 1\r\n`,
  `get ${k('sp')}\r\n`,
  set(k('tr'), '12 34'),
  `incr ${k('tr')} 1\r\n`,
  `get ${k('tr')}\r\n`,
  set(k('tab'), '\t7'),
  `incr ${k('tab')} 1\r\n`,
  `get ${k('tab')}\r\n`,
  set(k('crlf'), '5\r\n'),
  `incr ${k('crlf')} 1\r\n`,
  `get ${k('crlf')}\r\n`,
  set(k('plus'), '+5'),
  `incr ${k('plus')} 1\r\n`,
  `get ${k('plus')}\r\n`,
  set(k('zero'), '07'),
  `incr ${k('zero')} 1\r\n`,
  `get ${k('zero')}\r\n`,
  set(k('nul'), '1\x002'),
  `incr ${k('nul')} 1\r\n`,
  `get ${k('nul')}\r\n`,
  set(k('neg'), '-1'),
  `incr ${k('neg')} 1\r\n`,
  set(k('neg0'), '-0'),
  `incr ${k('neg0')} 1\r\n`,
  `get ${k('neg0')}\r\n`,
  set(k('abc'), 'abc'),
  `incr ${k('abc')} 1\r\n`,
  `decr ${k('abc')} 1\r\n`,
  set(k('mix'), '12abc'),
  `incr ${k('mix')} 1\r\n`,
  set(k('empty'), ''),
  `incr ${k('empty')} 1\r\n`,
  set(k('big'), '18446744073709551616'),
  `incr ${k('big')} 1\r\n`,
  set(k('long'), '184467440737095516150'),
  `incr ${k('long')} 1\r\n`,
  set(k('hex'), '0x10'),
  `incr ${k('hex')} 1\r\n`,
  `get ${k('hex')}\r\n`,
  set(k('sp2'), ' '),
  `incr ${k('sp2')} 1\r\n`,
  set(k('zeros'), '00000000000000000000000000001'),
  `incr ${k('zeros')} 1\r\n`,
  `get ${k('zeros')}\r\n`,
  set(k('dsp'), '  12'),
  `decr ${k('dsp')} 1\r\n`,
  `get ${k('dsp')}\r\n`,
  set(k('max'), '9223372036854775808'),
  `incr ${k('max')} 9223372036854775807\r\n`,
  `incr ${k('max')} 1\r\n`,
  `get ${k('max')}\r\n`,
]);

def('incr/decr bad delta and arity', (k) => [
  set(k('n'), '1'),
  `incr ${k('n')} -1\r\n`,
  `decr ${k('n')} -1\r\n`,
  `incr ${k('n')} abc\r\n`,
  `incr ${k('n')} 1x\r\n`,
  `incr ${k('n')} 18446744073709551616\r\n`,
  `incr ${k('n')} 99999999999999999999999\r\n`,
  `incr ${k('n')} +2\r\n`,
  `incr ${k('n')} 1.5\r\n`,
  `incr ${k('missing')} abc\r\n`,
  `incr ${k('n')}\r\n`,
  `incr ${k('n')} 1 2 3\r\n`,
  `decr\r\n`,
  `get ${k('n')}\r\n`,
]);

// ───────────────────────────── noreply ─────────────────────────────

def('noreply on every storage command (success and failure)', (k) => [
  set(k('s'), 'v1', 0, 0, 'set', ' noreply'),
  set(k('s'), 'v2', 0, 0, 'add', ' noreply'),
  set(k('a'), 'v3', 0, 0, 'add', ' noreply'),
  set(k('r'), 'v4', 0, 0, 'replace', ' noreply'),
  set(k('a'), 'v5', 0, 0, 'replace', ' noreply'),
  set(k('s'), '+', 0, 0, 'append', ' noreply'),
  set(k('s'), '-', 0, 0, 'prepend', ' noreply'),
  set(k('x'), '+', 0, 0, 'append', ' noreply'),
  set(k('x'), '-', 0, 0, 'prepend', ' noreply'),
  `get ${k('s')} ${k('a')} ${k('r')} ${k('x')}\r\n`,
  `cas ${k('x')} 0 0 1 1 noreply\r\nc\r\n`,
  `cas ${k('s')} 0 0 1 18446744073709551615 noreply\r\nc\r\n`,
  `gets ${k('s')}\r\n`,
  (ctx) => `cas ${k('s')} 0 0 1 ${ctx.cas(k('s'))} noreply\r\nc\r\n`,
  `get ${k('s')}\r\n`,
  `set ${k('s')} 0 0 1 NOREPLY\r\nx\r\n`,
  `set ${k('s')} 0 0 1 noreplyx\r\nx\r\n`,
  `get ${k('s')}\r\n`,
]);

def('noreply on incr/decr/touch/delete/verbosity and on errors', (k) => [
  set(k('n'), '5'),
  `incr ${k('n')} 1 noreply\r\n`,
  `decr ${k('n')} 2 noreply\r\n`,
  `incr ${k('missing')} 1 noreply\r\n`,
  `incr ${k('n')} abc noreply\r\n`,
  set(k('t'), 'text'),
  `incr ${k('t')} 1 noreply\r\n`,
  `get ${k('n')}\r\n`,
  `touch ${k('n')} 100 noreply\r\n`,
  `touch ${k('missing')} 100 noreply\r\n`,
  `delete ${k('n')} noreply\r\n`,
  `delete ${k('n')} noreply\r\n`,
  `get ${k('n')}\r\n`,
  `verbosity 1 noreply\r\n`,
  `verbosity noreply\r\n`,
  `verbosity 0 noreply\r\n`,
  `set ${k('bad')} abc 0 1 noreply\r\nx\r\n`,
  `set ${k('bad')} 0 0 -1 noreply\r\nx\r\n`,
  `set ${keyOfLength(k('long'), 251)} 0 0 1 noreply\r\nx\r\n`,
  `set ${k('chunk')} 0 0 1 noreply\r\nxyz\r\n`,
  `get ${k('bad')} ${k('chunk')}\r\n`,
  `incr noreply\r\n`,
  `delete noreply\r\n`,
  `get ${k('noreply')}\r\n`,
]);

// ───────────────────────────── values, flags, exptime, lengths ─────────────────────────────

def('zero-length values', (k) => [
  `set ${k('z')} 0 0 0\r\n\r\n`,
  `get ${k('z')}\r\n`,
  `gets ${k('z')}\r\n`,
  `set ${k('z')} 7 0 0 noreply\r\n\r\n`,
  `get ${k('z')}\r\n`,
  `append ${k('z')} 0 0 0\r\n\r\n`,
  `get ${k('z')}\r\n`,
]);

def('binary values containing CR LF, NUL, high bytes and protocol look-alikes', (k) => [
  set(k('crlf'), '\r\n'),
  set(k('nul'), '\x00\x00\x00'),
  set(k('mix'), 'a\r\nb\nc\rd\x00e\xff\x80'),
  set(k('proto'), 'END\r\nVALUE x 0 1 2\r\nSTORED\r\nVERSION 1.6.18\r\n'),
  set(k('all'), Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('')),
  `get ${k('crlf')} ${k('nul')} ${k('mix')}\r\n`,
  `gets ${k('proto')}\r\n`,
  `get ${k('all')}\r\n`,
  `set ${k('len')} 0 0 4\r\n\r\n\r\n\r\n`,
  `get ${k('len')}\r\n`,
]);

def('flags: 0, max, wrap, sign, junk', (k) => [
  set(k('f'), 'x', 0),
  `get ${k('f')}\r\n`,
  set(k('f'), 'x', 4294967295),
  `get ${k('f')}\r\n`,
  `set ${k('f')} 4294967296 0 1\r\nx\r\n`,
  `get ${k('f')}\r\n`,
  `set ${k('f')} 4294967301 0 1\r\nx\r\n`,
  `get ${k('f')}\r\n`,
  `set ${k('f')} 18446744073709551615 0 1\r\nx\r\n`,
  `get ${k('f')}\r\n`,
  `set ${k('f')} 18446744073709551616 0 1\r\nx\r\n`,
  `set ${k('f')} -1 0 1\r\nx\r\n`,
  `set ${k('f')} -4294967295 0 1\r\nx\r\n`,
  `get ${k('f')}\r\n`,
  `set ${k('f')} -0 0 1\r\nx\r\n`,
  `get ${k('f')}\r\n`,
  `set ${k('f')} +5 0 1\r\nx\r\n`,
  `get ${k('f')}\r\n`,
  `set ${k('f')} 007 0 1\r\nx\r\n`,
  `get ${k('f')}\r\n`,
  `set ${k('f')} abc 0 1\r\nx\r\n`,
  `set ${k('f')} 1x 0 1\r\nx\r\n`,
  `set ${k('f')} 0x10 0 1\r\nx\r\n`,
  `set ${k('f')} 1.0 0 1\r\nx\r\n`,
  `set ${k('f')} 3\t 0 1\r\nx\r\n`,
  `get ${k('f')}\r\n`,
  `set ${k('f')}  5  0  1 \r\nx\r\n`,
  `get ${k('f')}\r\n`,
]);

def('exptime edge cases that need no waiting', (k) => [
  set(k('zero'), 'x', 0, 0),
  `get ${k('zero')}\r\n`,
  set(k('neg'), 'x', 0, -1),
  `get ${k('neg')}\r\n`,
  set(k('neg'), 'y', 0, 0, 'add'),
  `get ${k('neg')}\r\n`,
  set(k('neg2'), 'x', 0, -100),
  set(k('neg2'), 'y', 0, 0, 'replace'),
  set(k('neg2'), 'y', 0, 0, 'append'),
  `touch ${k('neg2')} 0\r\n`,
  `incr ${k('neg2')} 1\r\n`,
  `delete ${k('neg2')}\r\n`,
  set(k('past'), 'x', 0, 2678400),
  `get ${k('past')}\r\n`,
  set(k('past'), 'y', 0, 2592001),
  `get ${k('past')}\r\n`,
  set(k('rel30d'), 'x', 0, 2592000),
  `get ${k('rel30d')}\r\n`,
  () => set(k('future'), 'x', 0, nowSec() + 100000),
  `get ${k('future')}\r\n`,
  set(k('w32'), 'x', 0, '4294967296'),
  `get ${k('w32')}\r\n`,
  set(k('i32'), 'x', 0, '2147483648'),
  `get ${k('i32')}\r\n`,
  set(k('big'), 'x', 0, '9999999999'),
  `get ${k('big')}\r\n`,
  set(k('nbig'), 'x', 0, '-2147483649'),
  `get ${k('nbig')}\r\n`,
  set(k('huge'), 'x', 0, '99999999999999999999'),
  `get ${k('huge')}\r\n`,
  set(k('plus'), 'x', 0, '+0'),
  `get ${k('plus')}\r\n`,
  set(k('junk'), 'x', 0, 'abc'),
  set(k('junk'), 'x', 0, '1.5'),
  set(k('junk'), 'x', 0, '10s'),
  `get ${k('junk')}\r\n`,
]);

def('value length field: non-numeric, negative, overflow, wrap', (k) => [
  `set ${k('l')} 0 0 abc\r\nx\r\n`,
  `set ${k('l')} 0 0 -1\r\nx\r\n`,
  `set ${k('l')} 0 0 1x\r\nx\r\n`,
  `set ${k('l')} 0 0 4294967295\r\nx\r\n`,
  `set ${k('l')} 0 0 2147483647\r\n`,
  `set ${k('l')} 0 0 2147483646\r\n`,
  `set ${k('l')} 0 0 99999999999999999999\r\nx\r\n`,
  `set ${k('l')} 0 0 4294967297\r\nx\r\n`,
  `get ${k('l')}\r\n`,
  `set ${k('l')} 0 0 +2\r\nxy\r\n`,
  `set ${k('l')} 0 0 3\t\r\nxyz\r\n`,
  `set ${k('l')} 0 0 002\r\nab\r\n`,
  `get ${k('l')}\r\n`,
]);

// ───────────────────────────── malformed input ─────────────────────────────

def('bad command lines', (k) => [
  `bogus\r\n`,
  `bogus ${k('a')} 0 0 1\r\n`,
  `\r\n`,
  `\n`,
  `   \r\n`,
  `g\r\n`,
  `x\r\n`,
  `GET ${k('a')}\r\n`,
  `Set ${k('a')} 0 0 1\r\nx\r\n`,
  `VERSION\r\n`,
  `get\r\n`,
  `gets\r\n`,
  `getx ${k('a')}\r\n`,
  `sets ${k('a')} 0 0 1\r\n`,
  `set\r\n`,
  `set ${k('a')}\r\n`,
  `set ${k('a')} 0 0\r\n`,
  `set ${k('a')} 0 0 1 noreply extra\r\nx\r\n`,
  `add ${k('a')} 0\r\n`,
  `replace ${k('a')} 0 0 1 2 3\r\nx\r\n`,
  `append ${k('a')} 0 0\r\n`,
  `prepend ${k('a')}\r\n`,
  `cas ${k('a')} 0 0 1\r\nx\r\n`,
  `incr\r\n`,
  `touch\r\n`,
  `delete\r\n`,
  `flush_all 1 2 3\r\n`,
  `verbosity\r\n`,
  `verbosity 1 2 3\r\n`,
  `quitx\r\n`,
  `version\x00 trailing\r\n`,
  `get ${k('a')}\x00${k('b')}\r\n`,
  `set ${k('a')}\x00b 0 0 1\r\nx\r\n`,
  `get ${k('a')}\r\n`,
  `\x00\r\n`,
  `\xff\xfe\r\n`,
]);

def('CLIENT_ERROR bad data chunk and what follows', (k) => [
  set(k('b'), 'old'),
  `set ${k('b')} 0 0 3\r\nabcde\r\n`,
  `get ${k('b')}\r\n`,
  `set ${k('b')} 0 0 3\r\nabcdefgh\r\n`,
  `set ${k('b')} 0 0 3\r\nabc\n\r\n`,
  `set ${k('b')} 0 0 3\r\nabc\rX\r\n`,
  `set ${k('b')} 0 0 3\r\nabcd\r\nget ${k('b')}\r\n`,
  `set ${k('b')} 0 0 3\r\nab\r\n\r\n`,
  `get ${k('b')}\r\n`,
  `set ${k('b')} 0 0 3 noreply\r\nabcde\r\n`,
  `append ${k('zz')} 0 0 1\r\nxyz\r\n`,
  `add ${k('b')} 0 0 1\r\nxyz\r\n`,
  `cas ${k('b')} 0 0 1 1\r\nxyz\r\n`,
  `set ${k('b')} 0 0 1\r\nx\nset ${k('c')} 0 0 1\r\ny\r\n`,
  `set ${k('b')} 0 0 0\r\nxx\r\n`,
  `get ${k('b')} ${k('c')}\r\n`,
]);

def('lines terminated by bare LF', (k) => [
  `set ${k('a')} 0 0 1\nx\r\nget ${k('a')}\n`,
  `gets ${k('a')}\nincr ${k('a')} 1\ndelete ${k('a')}\n`,
  `set ${k('n')} 0 0 1\n5\r\nincr ${k('n')} 1\ndecr ${k('n')} 1\ntouch ${k('n')} 0\nget ${k('n')}\n`,
  `set ${k('b')} 0 0 1\nx\nget ${k('b')}\n`,
  `get ${k('a')}\r\r\n`,
  `get ${k('n')} \n`,
  `version\n`,
  `\n\n`,
  `set ${k('c')} 0 0 1\r\r\nx\r\n`,
  `get ${k('c')}\r\n`,
]);

def('pipelined batch in one write', (k) => {
  const cmds: string[] = [];
  for (let i = 0; i < 20; i++) cmds.push(set(k(`p${i}`), `value-${i}`, i));
  cmds.push(`get ${Array.from({ length: 20 }, (_, i) => k(`p${i}`)).join(' ')}\r\n`);
  cmds.push(set(k('n'), '10'));
  for (let i = 0; i < 10; i++) cmds.push(`incr ${k('n')} ${i}\r\n`);
  cmds.push(`delete ${k('p0')}\r\n`, `delete ${k('p0')}\r\n`, `add ${k('p1')} 0 0 1\r\nx\r\n`);
  cmds.push(`bogus\r\n`, `touch ${k('p2')} 0\r\n`, `get ${k('p0')} ${k('p1')} ${k('n')}\r\n`);
  cmds.push(`set ${k('q')} 0 0 1 noreply\r\nq\r\n`, `get ${k('q')}\r\n`);
  return [cmds.join('')];
});

def('commands split across many writes (byte by byte)', (k) => {
  const batch =
    set(k('a'), 'hello\r\nworld', 3) +
    `get ${k('a')}\r\n` +
    `gets ${k('a')} ${k('missing')}\r\n` +
    set(k('n'), '41') +
    `incr ${k('n')} 1\r\n` +
    `set ${k('b')} 0 0 3\r\nabcde\r\n` +
    `delete ${k('a')}\r\n` +
    `bogus\r\n`;
  return [
    { send: batch, chunkSize: 1 },
    { send: `get ${k('n')} ${k('b')}\r\n` + set(k('c'), 'x'.repeat(50)), chunkSize: 3, chunkDelayMs: 1 },
    { send: `get ${k('c')}\r\n`, chunkSize: 1, chunkDelayMs: 2 },
  ];
});

def('data block arrives separately from the command line', (k) => [
  { send: `set ${k('a')} 0 0 10\r\n`, mode: 'quiet', quietMs: 150 },
  { send: `abc`, mode: 'quiet', quietMs: 150 },
  { send: `defghij\r\n` },
  `get ${k('a')}\r\n`,
  { send: `set ${k('b')} 0 0 2\r\nxy`, mode: 'quiet', quietMs: 150 },
  { send: `\r` , mode: 'quiet', quietMs: 100 },
  { send: `\nget ${k('b')}` , mode: 'quiet', quietMs: 100 },
  { send: `\r\n` },
  { send: `get ${k('a')}`, mode: 'quiet', quietMs: 150 },
  { send: `\r\n` },
]);

// ───────────────────────────── keys ─────────────────────────────

def('key of exactly 250 bytes vs 251 bytes on every command', (k) => {
  const k250 = keyOfLength(k('L'), 250);
  const k251 = keyOfLength(k('L'), 251);
  const steps: StepLike[] = [];
  for (const key of [k250, k251]) {
    steps.push(
      set(key, '1'),
      `get ${key}\r\n`,
      `gets ${key}\r\n`,
      set(key, '2', 0, 0, 'add'),
      set(key, '3', 0, 0, 'replace'),
      set(key, '4', 0, 0, 'append'),
      set(key, '5', 0, 0, 'prepend'),
      `cas ${key} 0 0 1 1\r\n6\r\n`,
      `incr ${key} 1\r\n`,
      `decr ${key} 1\r\n`,
      `touch ${key} 0\r\n`,
      `gat 0 ${key}\r\n`,
      `gats 0 ${key}\r\n`,
      `get ${key}\r\n`,
      `delete ${key}\r\n`,
      `delete ${key} noreply\r\n`,
      `get ${key}\r\n`,
    );
  }
  return steps;
});

def('251-byte key among other keys of get/gets/gat', (k) => {
  const k251 = keyOfLength(k('L'), 251);
  return [
    set(k('a'), 'A'),
    set(k('b'), 'B'),
    `get ${k('a')} ${k251} ${k('b')}\r\n`,
    `get ${k('a')} ${k('b')} ${k251}\r\n`,
    `gets ${k251} ${k('a')}\r\n`,
    `gat 100 ${k('a')} ${k251}\r\n`,
    `gats 100 ${k('a')} ${k('b')} ${k251} ${k('a')}\r\n`,
    `get ${Array.from({ length: 30 }, (_, i) => k(`m${i}`)).join(' ')} ${k251}\r\n`,
    `get ${k('a')} ${k('b')}\r\n`,
    `get ${k('a')} ${'z'.repeat(3000)}\r\n`,
  ];
});

def('keys with control characters and high bytes', (k) => [
  set(k('a\x01b'), 'ctl'),
  `get ${k('a\x01b')}\r\n`,
  set(k('tab\tkey'), 'tab'),
  `get ${k('tab\tkey')}\r\n`,
  `get ${k('tab')}\r\n`,
  set(k('del\x7f'), 'del'),
  `get ${k('del\x7f')}\r\n`,
  set(k('\xe9\xff'), 'latin'),
  `get ${k('\xe9\xff')}\r\n`,
  set(k('cr\rmid'), 'cr'),
  `get ${k('cr\rmid')}\r\n`,
  set(k('vt\x0bff\x0c'), 'vtff'),
  `get ${k('vt\x0bff\x0c')}\r\n`,
  set(k('esc\x1b[0m'), 'esc'),
  `get ${k('esc\x1b[0m')}\r\n`,
  `incr ${k('a\x01b')} 1\r\n`,
  `touch ${k('a\x01b')} 0\r\n`,
  `delete ${k('a\x01b')}\r\n`,
  `get ${k('a\x01b')} ${k('tab\tkey')} ${k('\xe9\xff')}\r\n`,
  set(k('nul'), 'first'),
  `set ${k('nul')}\x00ignored 0 0 1\r\nx\r\n`,
  `get ${k('nul')}\x00ignored\r\n`,
  `delete ${k('nul')}\x00 junk\r\n`,
  `get ${k('nul')}\r\n`,
]);

// ───────────────────────────── item size limit ─────────────────────────────

def('value of exactly the maximum size vs one byte more', (k) => {
  const key = k('m');
  const max0 = maxValueLength(key.length, 0);
  const max1 = maxValueLength(key.length, 1);
  return [
    set(key, 'v'.repeat(max0)),
    `touch ${key} 0\r\n`,
    set(key, 'v'.repeat(max0 + 1)),
    `touch ${key} 0\r\n`,
    set(key, 'w'.repeat(max1), 1),
    `touch ${key} 0\r\n`,
    set(key, 'w'.repeat(max1 + 1), 1),
    `touch ${key} 0\r\n`,
    set(key, 'x'.repeat(max0 - 3)),
    `get ${key}\r\n`,
  ];
});

def('maximum size with a 250-byte key', (k) => {
  const key = keyOfLength(k('M'), 250);
  const max = maxValueLength(250, 0);
  return [set(key, 'v'.repeat(max)), `touch ${key} 0\r\n`, set(key, 'v'.repeat(max + 1)), `touch ${key} 0\r\n`];
});

def('too-large value: data swallowed; set deletes the old item, other commands keep it', (k) => {
  const big = 'v'.repeat(2_000_000);
  const big2 = 'g'.repeat(ITEM_SIZE_MAX);
  const steps: StepLike[] = [];
  for (const cmd of ['set', 'add', 'replace', 'append', 'prepend'] as const) {
    steps.push(set(k(cmd), 'old'), set(k(cmd), big, 0, 0, cmd), `get ${k(cmd)}\r\n`);
  }
  steps.push(
    set(k('cas'), 'old'),
    `cas ${k('cas')} 0 0 ${big.length} 1\r\n${big}\r\n`,
    `get ${k('cas')}\r\n`,
    set(k('nr'), 'old'),
    set(k('nr'), big, 0, 0, 'set', ' noreply'),
    `get ${k('nr')}\r\n`,
    set(k('missing'), big2),
    `get ${k('missing')}\r\n`,
    set(k('after'), big2 + '\r\nget ' + k('nr')),
    `get ${k('after')}\r\n`,
  );
  return steps;
});

def('append/prepend beyond the maximum size', (k) => {
  const key = k('ap');
  const max = maxValueLength(key.length, 0);
  return [
    set(key, 'a'.repeat(max - 10)),
    set(key, 'b'.repeat(10), 0, 0, 'append'),
    `touch ${key} 0\r\n`,
    set(key, 'c'.repeat(1), 0, 0, 'append'),
    set(key, 'd'.repeat(1), 0, 0, 'prepend'),
    `touch ${key} 0\r\n`,
    set(k('small'), 'x'),
    `append ${k('small')} 0 0 ${max}\r\n${'y'.repeat(max)}\r\n`,
    `get ${k('small')}\r\n`,
  ];
});

// ───────────────────────────── misc commands ─────────────────────────────

def('verbosity', () => [
  `verbosity 1\r\n`,
  `verbosity 0\r\n`,
  `verbosity\r\n`,
  `verbosity abc\r\n`,
  `verbosity -1\r\n`,
  `verbosity 1 2\r\n`,
  `verbosity 1 2 3\r\n`,
  `verbosity 99999999999\r\n`,
  `verbosity 1 noreply\r\n`,
  `verbosity abc noreply\r\n`,
  `verbosity noreply\r\n`,
  `verbosity 0\r\n`,
]);

def('version', () => [`version\r\n`, `version x y z\r\n`, `version\nversion\r\n`, `  version  \r\n`]);

def('shutdown is refused; unknown verbs that look like HTTP', () => [
  `shutdown\r\n`,
  `shutdown graceful\r\n`,
  `trace / HTTP/1.1\r\n`,
  `gx / HTTP/1.1\r\n`,
  `meh HTTP/1.1\r\n`,
]);

def('flush_all', (k) => [
  set(k('a'), 'x'),
  `flush_all\r\n`,
  `get ${k('a')}\r\n`,
  set(k('a'), 'y'),
  `get ${k('a')}\r\n`,
  `flush_all 0\r\n`,
  `get ${k('a')}\r\n`,
  set(k('a'), 'z'),
  `flush_all -1\r\n`,
  `get ${k('a')}\r\n`,
  set(k('a'), 'w'),
  `flush_all noreply\r\n`,
  `get ${k('a')}\r\n`,
  set(k('a'), 'v'),
  `flush_all 0 noreply\r\n`,
  `get ${k('a')}\r\n`,
  set(k('a'), 'u'),
  `flush_all abc\r\n`,
  `flush_all 1x\r\n`,
  `flush_all abc noreply\r\n`,
  `get ${k('a')}\r\n`,
  `flush_all 1 2 3\r\n`,
  `flush_all 0 0\r\n`,
  `get ${k('a')}\r\n`,
  set(k('a'), 't'),
  `add ${k('a')} 0 0 1\r\ns\r\n`,
  `flush_all\r\nadd ${k('a')} 0 0 1\r\nr\r\nget ${k('a')}\r\n`,
  `incr ${k('a')} 1\r\n`,
]);

def(
  'flush_all when disabled (-F)',
  (k) => [
    set(k('a'), 'x'),
    `flush_all\r\n`,
    `flush_all 0\r\n`,
    `flush_all -1\r\n`,
    `flush_all abc\r\n`,
    `flush_all noreply\r\n`,
    `flush_all 0 noreply\r\n`,
    `flush_all 1 2 3\r\n`,
    `get ${k('a')}\r\n`,
  ],
  { flushDisabled: true },
);

def('stats (structural comparison only)', () => [`stats\r\n`], { structuralOnly: true });

// memcached lowers its limit only down to what it has allocated, so the accepted values here are
// well above that; the last leaves the shared memcached with room to spare.
def('cache_memlimit', () => [
  `cache_memlimit 100\r\n`,
  `cache_memlimit 200 noreply\r\n`,
  `cache_memlimit\r\n`,
  `cache_memlimit abc\r\n`,
  `cache_memlimit -1\r\n`,
  `cache_memlimit 7\r\n`,
  `cache_memlimit 1000000001\r\n`,
  `cache_memlimit 4294967396\r\n`,
  `cache_memlimit 1 2 3\r\n`,
  `cache_memlimit noreply\r\n`,
  `cache_memlimit 1024\r\n`,
]);

// ───────────────────────────── connection-closing input ─────────────────────────────

def('quit', (k) => [
  { send: set(k('a'), 'x') + `quit\r\nget ${k('a')}\r\n`, mode: 'close' },
  { send: `get ${k('a')}\r\n`, newConnection: true },
  { send: `quit now please\r\n`, mode: 'close' },
  { send: `get ${k('a')}\r\nquit\r\n`, mode: 'close', newConnection: true },
  { send: `quit\n`, mode: 'close', newConnection: true },
]);

def('HTTP request line closes the connection', (k) => [
  set(k('a'), 'x'),
  { send: `GET / HTTP/1.1\r\nHost: localhost\r\n\r\n`, mode: 'close' },
  { send: `POST /x HTTP/1.0\r\n`, mode: 'close', newConnection: true },
  { send: `foo HTTP/1.1\r\n`, mode: 'close', newConnection: true },
  { send: `GET / HTTP/1.1 x\r\n`, newConnection: true },
  `get / HTTP/1.1\r\n`,
  `get ${k('a')}\r\n`,
]);

// memcached also drops the not-yet-sent replies of commands that came in the same read as
// the hang-up line; memgate sends them before closing (a documented difference, see README),
// so the hang-up lines travel in writes of their own here.
def('commands before a hang-up line still take effect', (k) => [
  set(k('a'), 'x'),
  { send: `foo HTTP/1.0\r\n`, mode: 'close' },
  { send: `get ${k('a')}\r\n`, newConnection: true },
  { send: set(k('b'), 'y'), newConnection: true },
  { send: 'z'.repeat(3000), mode: 'close' },
  { send: `get ${k('b')}\r\n`, newConnection: true },
  { send: `get ${k('a')}\r\nquit\r\nGET / HTTP/1.1\r\n`, mode: 'close' },
]);

def('too-large value sent in pieces: reply only after the swallowed data is complete', (k) => [
  set(k('a'), 'old'),
  { send: `set ${k('a')} 0 0 2000000\r\n` + 'v'.repeat(1000), mode: 'quiet', quietMs: 300 },
  { send: 'v'.repeat(1_999_000), mode: 'quiet', quietMs: 300 },
  { send: '\r\n' },
  `get ${k('a')}\r\n`,
  { send: `add ${k('a')} 0 0 1500000\r\n`, mode: 'quiet', quietMs: 300 },
  { send: 'w'.repeat(1_500_000) + '\r\n' },
]);

def('line of 3000 bytes without newline closes; 2048 does not', () => [
  { send: 'x'.repeat(3000), mode: 'close' },
  { send: 'x'.repeat(2049), mode: 'close', newConnection: true },
  { send: `set ${'k'.repeat(3000)}`, mode: 'close', newConnection: true },
  { send: 'x'.repeat(2048), mode: 'quiet', quietMs: 300, newConnection: true },
  { send: '\r\n' },
  { send: 'y'.repeat(2000), mode: 'quiet', quietMs: 200 },
  { send: 'y'.repeat(49), mode: 'close' },
]);

def('long get line vs long other lines', (k) => {
  const keys = Array.from({ length: 500 }, (_, i) => k(`g${i}`)).join(' ');
  return [
    set(k('g7'), 'seven'),
    set(k('g499'), 'last'),
    `get ${keys}\r\n`,
    { send: `gets ${keys}`, mode: 'quiet', quietMs: 300 },
    { send: `\r\n` },
    { send: `   get ${keys}`, mode: 'quiet', quietMs: 300 },
    { send: `\r\n` },
    `${'y'.repeat(5000)}\r\n`,
    `set ${'k'.repeat(3000)} 0 0 1\r\nx\r\n`,
    `delete ${'k'.repeat(3000)}\r\n`,
    `incr ${'k'.repeat(3000)} 1\r\n`,
  ];
});

// ───────────────────────────── meta protocol ─────────────────────────────
// mg ms md ma mn me: every flag of memcached 1.6.18, including its errors. Replies carry CAS
// values and clock readings, masked by maskTextReply; `ctx.cas(LAST_META_CAS)` is the last
// CAS a meta reply returned on that server.

/** `ms <key> <len> <flags>\r\n<value>\r\n` */
function ms(key: string, value: string, flags = ''): string {
  return `ms ${key} ${Buffer.byteLength(value, 'latin1')}${flags ? ` ${flags}` : ''}\r\n${value}\r\n`;
}

const b64 = (text: string): string => Buffer.from(text, 'latin1').toString('base64');
const lastCas = (ctx: StepContext): string => ctx.cas(LAST_META_CAS);

def('mn, unknown meta verbs, and meta lines without a key', (k) => [
  `mn\r\n`,
  `mn with some tokens\r\n`,
  `mx ${k('a')}\r\n`,
  `mz\r\n`,
  `m\r\n`,
  `mgg ${k('a')}\r\n`,
  `mg\r\n`,
  `ms\r\n`,
  `md\r\n`,
  `ma\r\n`,
  `me\r\n`,
  `mg  \r\n`,
]);

def('mg: hits, misses and every returned flag in request order', (k) => [
  `mg ${k('a')}\r\n`,
  `mg ${k('a')} v\r\n`,
  `mg ${k('a')} s v k Oabc c f t h l\r\n`,
  set(k('a'), 'hello', 42),
  `mg ${k('a')}\r\n`,
  `mg ${k('a')} v\r\n`,
  `mg ${k('a')} s v f k\r\n`,
  `mg ${k('a')} k f s Oxyz v c t\r\n`,
  `mg ${k('a')} O k\r\n`,
  `mg ${k('a')} P L Lpath/ v\r\n`,
  set(k('empty'), ''),
  `mg ${k('empty')} s v f\r\n`,
  set(k('bin'), 'a\r\nb\0c\r\n', 4294967295),
  `mg ${k('bin')} v f s\r\n`,
  `get ${k('a')} ${k('bin')}\r\n`,
]);

def('mg q: misses are silent, hits and errors are not; mn ends the pipeline', (k) => [
  set(k('hit'), 'v'),
  `mg ${k('miss')} v q\r\nmg ${k('hit')} v q\r\nmg ${k('miss')} q k Oop\r\nmg ${k('hit')} q s\r\nmg ${k('hit')} q zz\r\nmn\r\n`,
  `mg ${k('miss')} q\r\n`,
]);

def('mg flag errors: duplicates, unknown flags, bad tokens, the last bad token names the error', (k) => [
  set(k('a'), 'v'),
  `mg ${k('a')} v v\r\n`,
  `mg ${k('a')} s t s\r\n`,
  `mg ${k('a')} m o o o o\r\n`,
  `mg ${k('a')} x\r\n`,
  `mg ${k('a')} \xe9\r\n`,
  `mg ${k('a')} Tabc\r\n`,
  `mg ${k('a')} T\r\n`,
  `mg ${k('a')} N12x\r\n`,
  `mg ${k('a')} R\r\n`,
  `mg ${k('a')} Tx zz\r\n`,
  `mg ${k('a')} zz Tx\r\n`,
  `mg ${k('a')} Tx Tx\r\n`,
  `mg ${k('a')} Fx v\r\n`,
  `mg ${k('a')} Tx Fx\r\n`,
  `mg ${k('a')} Cx\r\n`,
  `mg ${k('a')} MEE\r\n`,
  `mg ${k('a')} Jx\r\n`,
  `mg ${k('a')} Dx\r\n`,
  `mg ${k('a')} T1 N2 R3 C4 F5 J6 D7 MZ I P L v\r\n`,
  `mg ${k('missing')} Tabc q\r\n`,
]);

def('mg opaque tokens: up to 32 bytes echoed, longer ones fail', (k) => [
  set(k('a'), 'v'),
  `mg ${k('a')} O${'o'.repeat(31)} v\r\n`,
  `mg ${k('a')} O${'o'.repeat(32)} v\r\n`,
  `mg ${k('missing')} O${'o'.repeat(32)}\r\n`,
  `mg ${k('missing')} O${'o'.repeat(32)} q\r\n`,
  `mg ${k('missing')} k O${'o'.repeat(31)} q\r\nmn\r\n`,
]);

def('mg key and token limits', (k) => {
  const k250 = keyOfLength(k('L'), 250);
  const k251 = keyOfLength(k('L'), 251);
  const flags17 = 's v f k c t h l u q P L O1 Ttt'.split(' ').slice(0, 13).join(' ');
  return [
    set(k250, 'x'),
    `mg ${k250} v\r\n`,
    `mg ${k251} v\r\n`,
    `mg ${k251}\r\n`,
    `mg ${k('a')} ${flags17} Lz Pz Oz Oq\r\n`,
    `mg ${k('a')} ${flags17} P0 L0 Ox I\r\n`,
    `mg ${k('a')} ${flags17} P0 L0 Ox I N0 R0\r\n`,
    `mg ${k('a')} ${'a '.repeat(30)}\r\n`,
    `mg ${k250} s v f k c t h l u P L O1 I C1 F1 J1\r\n`,
    `mg ${k250} s v f k c t h l u P L O1 I C1 F1 J1 D1\r\n`,
  ];
});

def('ms: set, returned flags, client flags, quiet', (k) => [
  ms(k('a'), 'hello'),
  `mg ${k('a')} v f s\r\n`,
  ms(k('a'), 'world', 'F17 k Oxy c'),
  `mg ${k('a')} v f\r\n`,
  `get ${k('a')}\r\n`,
  ms(k('a'), 'quiet', 'q'),
  ms(k('a'), 'quiet', 'q c k') + `mn\r\n`,
  `mg ${k('a')} v\r\n`,
  ms(k('a'), '', 'F4294967296'),
  `mg ${k('a')} v f\r\n`,
  ms(k('a'), 'x', 'F-1'),
  `mg ${k('a')} v f\r\n`,
  ms(k('a'), 'x', 'F18446744073709551615'),
  ms(k('a'), 'x', 'F18446744073709551616'),
  ms(k('a'), 'x', 'F12abc'),
  ms(k('a'), 'a\r\nb\0c'),
  `mg ${k('a')} v s\r\n`,
  ms(k('a'), 'x', 'T0 s t v h l u N1 R1 P L'),
  set(k('text'), 'from set', 3),
  `mg ${k('text')} v f\r\n`,
]);

def('ms modes: add, append, prepend, replace, set, and bad modes', (k) => [
  ms(k('a'), 'aa', 'T120'),
  ms(k('a'), 'bb', 'ME'),
  ms(k('new'), 'bb', 'ME k'),
  ms(k('new'), 'cc', 'MA'),
  `mg ${k('new')} v\r\n`,
  ms(k('new'), 'aa', 'MP c'),
  `mg ${k('new')} v\r\n`,
  ms(k('nope'), 'zz', 'MR'),
  ms(k('nope'), 'zz', 'MA'),
  ms(k('nope'), 'zz', 'MP'),
  ms(k('new'), 'xx', 'MR F3'),
  `mg ${k('new')} v f\r\n`,
  ms(k('new'), 'yy', 'MS'),
  ms(k('new'), 'tt', 'MZ'),
  ms(k('new'), 'tt', 'Ms'),
  ms(k('new'), 'tt', 'M'),
  ms(k('new'), 'tt', 'MSS'),
  ms(k('new'), 'tt', 'MZ O1 q'),
  `mg ${k('new')} v\r\n`,
  ms(k('app'), 'keepflags', 'F9'),
  ms(k('app'), '+', 'MA F1'),
  `mg ${k('app')} v f\r\n`,
]);

def('ms with a CAS: mismatch, match, missing item, and the modes that use it', (k) => [
  ms(k('a'), 'bo'),
  `mg ${k('a')} c\r\n`,
  (ctx) => ms(k('a'), 'io', `c C${BigInt(lastCas(ctx)) + 1000n}`),
  (ctx) => ms(k('a'), 'io', `c C${lastCas(ctx)}`),
  `mg ${k('a')} v c\r\n`,
  ms(k('a'), 'zz', 'C0'),
  ms(k('missing'), 'zz', 'C5'),
  ms(k('missing'), 'zz', 'C5 MR'),
  ms(k('missing'), 'zz', 'C5 ME'),
  `mg ${k('missing')} v\r\n`,
  ms(k('missing'), 'more', 'C5 MA'),
  `mg ${k('missing')} c\r\n`,
  (ctx) => ms(k('missing'), '!', `MA C${BigInt(lastCas(ctx)) + 7n}`),
  (ctx) => ms(k('missing'), '?', `MP C${lastCas(ctx)} c`),
  ms(k('missing'), '-', 'MA C0'),
  `mg ${k('missing')} v\r\n`,
  ms(k('missing'), 'add', 'C1 ME'),
  `mg ${k('missing')} c\r\n`,
  (ctx) => ms(k('missing'), 'rep', `C${lastCas(ctx)} MR`),
  `mg ${k('missing')} v\r\n`,
  ms(k('a'), 'x', 'Cabc'),
  ms(k('a'), 'x', 'C-1'),
]);

def('ms errors: before the length is known the data is read as commands, after it is skipped', (k) => [
  `ms ${k('a')}\r\n`,
  `ms ${k('a')} abc\r\nmn\r\n`,
  `ms ${k('a')} -1\r\nmn\r\n`,
  `ms ${k('a')} 2147483646\r\n`,
  `ms ${keyOfLength(k('L'), 251)} 2\r\nmn\r\n`,
  `ms ${k('a')} 2 ${'P '.repeat(0)}k c O1 P L F0 T0 MS I s t f v h u l N0 R0 D1\r\nmn\r\n`,
  `ms ${k('a')} 2 k c O1 P L F0 T0 MS I s t f v h u l N0\r\nok\r\n`,
  `ms ${k('a')} 2 zz\r\nmn\r\n`,
  `ms ${k('a')} 2 k k\r\nmn\r\n`,
  `ms ${k('a')} 2 Tx\r\nmn\r\n`,
  `ms ${k('a')} 2 Fx q\r\nmn\r\n`,
  `ms ${k('a')} 2 O${'o'.repeat(32)}\r\nmn\r\n`,
  `ms ${k('a')} 2 O${'o'.repeat(32)} MZ\r\nmn\r\n`,
  `ms ${k('a')} 2 q\r\nabcd\r\n`,
  `ms ${k('a')} 2\r\nabcd\r\n`,
  `mg ${k('a')} v\r\n`,
]);

def('ms too large: error even when quiet, old item dropped whatever the mode', (k) => {
  const big = 'v'.repeat(ITEM_SIZE_MAX);
  const max = maxValueLength(k('m').length, 0);
  return [
    ms(k('set'), 'old'),
    ms(k('set'), big, 'q'),
    `mg ${k('set')} v\r\n`,
    ms(k('add'), 'old'),
    ms(k('add'), big, 'ME'),
    `mg ${k('add')} v\r\n`,
    ms(k('m'), 'v'.repeat(max)),
    `mg ${k('m')} s\r\n`,
    ms(k('m'), 'v'.repeat(max + 1), 'k'),
    `mg ${k('m')} s\r\n`,
    ms(k('f'), 'w'.repeat(max), 'F1'),
  ];
});

def('ms and mg with base64 keys', (k) => {
  // 44OG44K544OI is "tesuto" in katakana (UTF-8), as in memcached's own tests
  const tesuto = '44OG44K544OI';
  const raw = Buffer.from(tesuto, 'base64').toString('latin1');
  return [
    ms(tesuto, 'po', 'b k c'),
    `mg ${tesuto} v\r\n`,
    `mg ${tesuto} b v k\r\n`,
    `mg ${tesuto} b q k\r\nmn\r\n`,
    `get ${raw}\r\n`,
    set(raw, 'plain'),
    `mg ${tesuto} b v k\r\n`,
    ms(b64(k('x')), 'viab64', 'b'),
    `mg ${k('x')} v k\r\n`,
    `me ${k('x')}\r\n`,
    `mg ${b64(k('nothing'))} b k v\r\n`,
    `mg ${k('x')} b\r\n`,
    `mg abc b\r\n`,
    `mg a=== b\r\n`,
    `mg ==== b\r\n`,
    `mg YQ== b k\r\n`,
    `mg YQ=x b k\r\n`,
    `mg YWJj!!ZGVm b k\r\n`,
    `mg YQ==YWJj b k\r\n`,
    `mg ${b64('a b\r\n')} b k v\r\n`,
    ms(b64('a b\r\n'), 'spaced', 'b'),
    `mg ${b64('a b\r\n')} b k v\r\n`,
    `ms !!! 2 b\r\nxx\r\nmn\r\n`,
    `md ${b64(k('x'))} b k q\r\n`,
    `mg ${k('x')} v\r\n`,
    `md abc b\r\n`,
    `ma ${b64(k('n'))} b N0 J5 v k\r\n`,
    `ma abc b\r\n`,
    `mg ${keyOfLength('QUFB', 252)} b\r\n`,
  ];
});

def('mg T touches; t before T reports the old TTL, after it the new one', (k) => [
  ms(k('a'), 'v', 'T100'),
  `mg ${k('a')} t\r\n`,
  `mg ${k('a')} s v T300 t\r\n`,
  `mg ${k('a')} t T30\r\n`,
  `mg ${k('a')} t\r\n`,
  `mg ${k('a')} T0 t\r\n`,
  `mg ${k('a')} t T0\r\n`,
  `mg ${k('missing')} T30 t\r\n`,
  `mg ${k('a')} T-1 v\r\n`,
  `mg ${k('a')} v\r\n`,
]);

def('mg N vivifies once: the creator wins, later readers see Z', (k) => [
  `mg ${k('a')} s c v N30 t\r\n`,
  `mg ${k('a')} s t v N30\r\n`,
  `mg ${k('a')} s v\r\n`,
  `mg ${k('a')} h l s\r\n`,
  ms(k('a'), 'nu', 'C5000 T120'),
  `mg ${k('b')} t N30 k\r\n`,
  `mg ${k('c')} s N30 t q\r\n`,
  `mg ${k('d')} t N0\r\n`,
  `mg ${k('e')} N30 t T100 h\r\n`,
  `mg ${k('f')} q k N0 O${'o'.repeat(32)}\r\n`,
  `mg ${k('f')} v t\r\n`,
  `mg ${k('g')} N30 O${'o'.repeat(32)} t\r\n`,
  `mg ${k('g')} t\r\n`,
  `me ${k('b')}\r\n`,
]);

def('mg N then ms with the CAS it returned: the recache cycle', (k) => [
  `mg ${k('a')} s c v N30 t\r\n`,
  (ctx) => ms(k('a'), 'mu', `C${lastCas(ctx)} T120`),
  `mg ${k('a')} s k t v N30\r\n`,
  `mg ${k('a')} s t c v N30 R130\r\n`,
  `mg ${k('a')} s t v N30 R130\r\n`,
  (ctx) => ms(k('a'), 'zuuu', `C${lastCas(ctx)} T300`),
  `mg ${k('a')} s t v N30 R130\r\n`,
  `mg ${k('a')} s t v R0\r\n`,
  `mg ${k('a')} s t v R-5\r\n`,
  ms(k('never'), 'v'),
  `mg ${k('never')} R30 v\r\n`,
  ms(k('touched'), 'v', 'T100'),
  `mg ${k('touched')} T10 R30 t\r\n`,
  `mg ${k('touched')} T100 R30 t\r\n`,
  ms(k('touched2'), 'v', 'T100'),
  `mg ${k('touched2')} R30 T10 t\r\n`,
]);

def('mg h and u: hits are reported as they were before this read', (k) => [
  ms(k('a'), 'hit', 'T100'),
  `mg ${k('a')} s t h\r\n`,
  `mg ${k('a')} s t h\r\n`,
  ms(k('nu'), 'hit', 'T100'),
  `mg ${k('nu')} s t u h\r\n`,
  `mg ${k('nu')} s t h\r\n`,
  `mg ${k('nu')} s t u h\r\n`,
  set(k('g'), 'x'),
  `get ${k('g')}\r\n`,
  `mg ${k('g')} h v\r\n`,
  set(k('g2'), 'x'),
  `mg ${k('g2')} v\r\n`,
  `mg ${k('g2')} h l\r\n`,
  set(k('g3'), 'x'),
  `mg ${k('g3')} u v\r\n`,
  `mg ${k('g3')} h\r\n`,
  set(k('t'), 'x'),
  `touch ${k('t')} 100\r\n`,
  `mg ${k('t')} h\r\n`,
  set(k('gat'), 'x'),
  `gat 100 ${k('gat')}\r\n`,
  `mg ${k('gat')} h\r\n`,
  `mg ${k('gat')} h\r\n`,
  set(k('gat'), 'y'),
  `mg ${k('gat')} h\r\n`,
  `ma ${k('n')} N0 J5\r\n`,
  `mg ${k('n')} h\r\n`,
  `mg ${k('viv')} N30 h\r\n`,
  `mg ${k('viv')} h\r\n`,
  `mg ${k('viv2')} N30 u h\r\n`,
  `mg ${k('viv2')} h\r\n`,
  // a counter changed in place keeps its marks; one that grows starts over
  set(k('n2'), '10'),
  `mg ${k('n2')} v\r\n`,
  `incr ${k('n2')} 1\r\n`,
  `mg ${k('n2')} h\r\n`,
  `ma ${k('n2')} D100\r\n`,
  `mg ${k('n2')} h\r\n`,
  set(k('inv'), 'x'),
  `get ${k('inv')}\r\n`,
  `md ${k('inv')} I\r\n`,
  `mg ${k('inv')} h v\r\n`,
]);

def('md: delete, quiet, CAS, returned flags, errors', (k) => [
  `md ${k('a')}\r\n`,
  `md ${k('a')} q\r\n`,
  `md ${k('a')} q k Oo\r\nmn\r\n`,
  ms(k('a'), 'zo'),
  `md ${k('a')} k Oxx\r\n`,
  `mg ${k('a')} v\r\n`,
  ms(k('a'), 'zo'),
  `md ${k('a')} q\r\nmn\r\n`,
  ms(k('a'), 'zo'),
  `mg ${k('a')} c\r\n`,
  (ctx) => `md ${k('a')} C${BigInt(lastCas(ctx)) + 10n}\r\n`,
  `md ${k('a')} C0\r\n`,
  (ctx) => `md ${k('a')} C${lastCas(ctx)} k q\r\n`,
  `mg ${k('a')} v\r\n`,
  `md ${k('a')} C5\r\n`,
  `md ${k('a')} zz\r\n`,
  `md ${k('a')} q q\r\n`,
  `md ${k('a')} Cx\r\n`,
  `md ${k('a')} Tx q\r\n`,
  `md ${k('a')} O${'o'.repeat(32)}\r\n`,
  `md ${k('a')} O${'o'.repeat(32)} q\r\n`,
  `md ${keyOfLength(k('L'), 251)} q\r\n`,
  `md ${k('a')} ${'s t v h l u P L k O1 I T1 F1 J1 D1 MS N1 R1'}\r\n`,
  `md ${k('a')} ${'s t v h l u P L k O1 I T1 F1 J1 D1 MS N1'}\r\n`,
  set(k('t'), 'x'),
  `md ${k('t')} T1\r\n`,
  `mg ${k('t')} v\r\n`,
]);

def('md I invalidates: the item stays stale, the next reader wins, ms I stores stale', (k) => [
  set(k('a'), 'moo'),
  `mg ${k('a')} s v\r\n`,
  `md ${k('a')} I T30\r\n`,
  `mg ${k('a')} s t v\r\n`,
  `mg ${k('a')} s t c v\r\n`,
  ms(k('a'), 'f', 'T90 C0'),
  ms(k('a'), 'f', 'I T90 C0'),
  ms(k('a'), 'f', 'I T90 C1'),
  `mg ${k('a')} s t c v\r\n`,
  (ctx) => ms(k('a'), 'g', `T90 C${lastCas(ctx)}`),
  `mg ${k('a')} s t v\r\n`,
  `md ${k('a')} I q\r\n`,
  `mg ${k('a')} s t v\r\n`,
  `md ${k('a')} I\r\n`,
  `mg ${k('a')} v\r\n`,
  `mg ${k('a')} v N30 R30\r\n`,
  `md ${k('a')} I k\r\n`,
  `mg ${k('a')} v q\r\n`,
  `mg ${k('a')} c\r\n`,
  (ctx) => ms(k('a'), 'h', `I C${lastCas(ctx)}`),
  `mg ${k('a')} v\r\n`,
  `mg ${k('a')} c\r\n`,
  (ctx) => `md ${k('a')} I C${BigInt(lastCas(ctx)) + 1n}\r\n`,
  (ctx) => `md ${k('a')} I C${lastCas(ctx)}\r\n`,
  `mg ${k('a')} v u\r\n`,
  `mg ${k('a')} v\r\n`,
  `md ${k('missing')} I\r\n`,
  ms(k('b'), 'x'),
  `mg ${k('b')} c\r\n`,
  (ctx) => ms(k('b'), 'y', `I C${lastCas(ctx)}`),
  `mg ${k('b')} v\r\n`,
  ms(k('c'), 'x'),
  ms(k('c'), 'y', 'I C1 MA'),
  `mg ${k('c')} v\r\n`,
]);

def('ma: incr, decr, create with N and J, returned flags', (k) => [
  `ma ${k('a')}\r\n`,
  `ma ${k('a')} D1\r\n`,
  `ma ${k('a')} q\r\n`,
  set(k('a'), '1'),
  `ma ${k('a')}\r\n`,
  `mg ${k('a')} v\r\n`,
  `ma ${k('a')} v\r\n`,
  `ma ${k('a')} v D10 k Ox\r\n`,
  `ma ${k('a')} v MD D5\r\n`,
  `ma ${k('a')} v M- D100\r\n`,
  `ma ${k('a')} v M+ D18446744073709551615\r\n`,
  `ma ${k('a')} v MI\r\n`,
  `ma ${k('a')} v MD\r\n`,
  `ma ${k('a')} q D1\r\nmn\r\n`,
  `ma ${k('a')} q D1 v\r\nmn\r\n`,
  `mg ${k('a')} v\r\n`,
  `ma ${k('n')} N0\r\n`,
  `mg ${k('n')} v\r\n`,
  `ma ${k('n2')} N0 J13 v t\r\n`,
  `ma ${k('n2')} N0 J13 v t\r\n`,
  `ma ${k('n2')} N0 J13 v t D30\r\n`,
  `ma ${k('n2')} N0 J13 v t MD D22\r\n`,
  `ma ${k('n2')} N0 J13 v t MD D9000\r\n`,
  `ma ${k('n3')} N0 q\r\nma ${k('n3')} q\r\nmn\r\n`,
  `mg ${k('n3')} v\r\n`,
  `ma ${k('n4')} J7\r\n`,
  `ma ${k('n5')} N30 J18446744073709551615 v t\r\n`,
  `ma ${k('n5')} v\r\n`,
  `ma ${k('n6')} t N50 T30 v\r\n`,
  `ma ${k('n7')} N50 T30 t v\r\n`,
  `ma ${k('n8')} T30 N50 t v\r\n`,
  `ma ${k('n9')} N0 c\r\n`,
  `mg ${k('n9')} c\r\n`,
  `ma ${k('n10')} N0 J5 F9 v\r\n`,
  `mg ${k('n10')} f v\r\n`,
]);

def('ma with a CAS, non-numeric values, and errors', (k) => [
  `ma ${k('c')} N0 c v\r\n`,
  `ma ${k('c')} N0 C99999 v\r\n`,
  (ctx) => `ma ${k('c')} N0 C${lastCas(ctx)} c v\r\n`,
  `ma ${k('c')} C0 v\r\n`,
  `ma ${k('missing')} C5\r\n`,
  set(k('s'), 'abc'),
  `ma ${k('s')}\r\n`,
  `ma ${k('s')} q\r\n`,
  `ma ${k('s')} C1\r\n`,
  set(k('e'), ''),
  `ma ${k('e')}\r\n`,
  `ma ${k('e')} C1\r\n`,
  set(k('sp'), '  7'),
  `ma ${k('sp')} v\r\n`,
  set(k('big'), '18446744073709551615'),
  `ma ${k('big')} v\r\n`,
  set(k('over'), '18446744073709551616'),
  `ma ${k('over')} v\r\n`,
  `ma ${k('c')} MX\r\n`,
  `ma ${k('c')} Mxx\r\n`,
  `ma ${k('c')} zz\r\n`,
  `ma ${k('c')} v v\r\n`,
  `ma ${k('c')} Dx\r\n`,
  `ma ${k('c')} D-1 v\r\n`,
  `ma ${k('c')} Jx N0\r\n`,
  `ma ${k('c')} Nx\r\n`,
  `ma ${k('c')} q Cx\r\n`,
  `ma ${keyOfLength(k('L'), 251)} q\r\n`,
  `ma ${k('c')} ${'s t v h l u P L k O1 I T1 F1 J1 D1 MI N1 R1'}\r\n`,
  `ma ${k('c')} ${'s t v h l u P L k O1 I F1 J1 D1 MI N1 R1'}\r\n`,
  `ma ${k('c')} O${'o'.repeat(32)} v\r\n`,
  `mg ${k('c')} v\r\n`,
  `ma ${k('nf')} O${'o'.repeat(32)}\r\n`,
  `ma ${k('s')} O${'o'.repeat(32)}\r\n`,
]);

def('ma T: sets the TTL when the digits fit, t reports it where it stands', (k) => [
  set(k('a'), '10'),
  `ma ${k('a')} T100 t\r\n`,
  `mg ${k('a')} t\r\n`,
  `ma ${k('a')} t T200 v\r\n`,
  `mg ${k('a')} t\r\n`,
  set(k('g'), '9'),
  `ma ${k('g')} T100 t v\r\n`,
  `mg ${k('g')} t\r\n`,
  `ma ${k('g')} T0 t\r\n`,
  `mg ${k('g')} t\r\n`,
  set(k('o'), '20'),
  `ma ${k('o')} T100 O${'o'.repeat(32)}\r\n`,
  `mg ${k('o')} t v\r\n`,
  `ma ${k('o')} O${'o'.repeat(32)} T300\r\n`,
  `mg ${k('o')} t v\r\n`,
]);

def('me: metadata of an item without counting as an access', (k) => [
  `me ${k('a')}\r\n`,
  set(k('a'), 'hi'),
  `me ${k('a')}\r\n`,
  `me ${k('a')}\r\n`,
  `mg ${k('a')} v\r\n`,
  `me ${k('a')}\r\n`,
  set(k('f'), 'x'.repeat(100), 7, 100),
  `me ${k('f')}\r\n`,
  `me ${k('f')} T0 v whatever\r\n`,
  set(k('big'), 'x'.repeat(600_000)),
  `me ${k('big')}\r\n`,
  set(k('mid'), 'x'.repeat(5000)),
  `me ${k('mid')}\r\n`,
  `me ${b64(k('a'))} b\r\n`,
  `me ${k('a')} b\r\n`,
  `me ${k('a')} bb\r\n`,
  `me ${keyOfLength(k('L'), 251)}\r\n`,
]);

def('meta and text commands on one connection and one item', (k) => [
  ms(k('a'), 'meta', 'F5'),
  `get ${k('a')}\r\n`,
  set(k('a'), 'text', 6),
  `mg ${k('a')} v f\r\n`,
  `append ${k('a')} 0 0 1\r\n!\r\n`,
  `mg ${k('a')} v f s\r\n`,
  `incr ${k('a')} 1\r\n`,
  set(k('n'), '5'),
  `ma ${k('n')} v\r\n`,
  `incr ${k('n')} 1\r\n`,
  `mg ${k('n')} v\r\n`,
  `md ${k('n')}\r\n`,
  `get ${k('n')}\r\n`,
]);

def('meta commands sent byte by byte', (k) => [
  { send: ms(k('a'), 'slow', 'T100 c k') + `mg ${k('a')} v s k\r\nmd ${k('a')} q\r\nmn\r\n`, chunkSize: 1 },
  { send: `ms ${k('a')} 3 Fx\r\nabc\r\nmn\r\n`, chunkSize: 1 },
]);

// ───────────────────────────── timing (keep last) ─────────────────────────────

def(
  'expiry after ~2 s: relative, absolute, touch, gat, negative',
  (k) => [
    set(k('rel1'), 'x', 0, 1),
    set(k('rel100'), 'x', 0, 100),
    set(k('touchShort'), 'x', 0, 100),
    `touch ${k('touchShort')} 1\r\n`,
    set(k('touchLong'), 'x', 0, 1),
    `touch ${k('touchLong')} 100\r\n`,
    set(k('gatLong'), 'x', 0, 1),
    `gat 100 ${k('gatLong')}\r\n`,
    set(k('gatsShort'), 'x', 0, 100),
    `gats 1 ${k('gatsShort')}\r\n`,
    set(k('touch0'), 'x', 0, 1),
    `touch ${k('touch0')} 0\r\n`,
    () => set(k('abs1'), 'x', 0, nowSec() + 1),
    () => set(k('abs100'), 'x', 0, nowSec() + 100),
    set(k('append'), 'x', 0, 1),
    set(k('append'), 'y', 0, 100, 'append'),
    set(k('incr'), '1', 0, 1),
    `incr ${k('incr')} 1\r\n`,
    set(k('addLater'), 'x', 0, 1),
    {
      sleepMs: 2200,
      send:
        `get ${k('rel1')} ${k('rel100')} ${k('touchShort')} ${k('touchLong')} ${k('gatLong')} ${k('gatsShort')}\r\n` +
        `get ${k('touch0')} ${k('abs1')} ${k('abs100')} ${k('append')} ${k('incr')}\r\n`,
    },
    set(k('addLater'), 'new', 0, 0, 'add'),
    `incr ${k('rel1')} 1\r\n`,
    `touch ${k('rel1')} 100\r\n`,
    set(k('rel1'), 'x', 0, 0, 'replace'),
    set(k('rel1'), 'x', 0, 0, 'append'),
    `cas ${k('rel1')} 0 0 1 1\r\nx\r\n`,
    `delete ${k('rel1')}\r\n`,
    `get ${k('addLater')}\r\n`,
  ],
  { timing: true },
);

def(
  'delayed flush_all',
  (k) => [
    set(k('before'), 'x'),
    `flush_all 3\r\n`,
    `get ${k('before')}\r\n`,
    set(k('between'), 'y'),
    `get ${k('between')}\r\n`,
    { sleepMs: 3500, send: `get ${k('before')} ${k('between')}\r\n` },
    set(k('after'), 'z'),
    `get ${k('after')}\r\n`,
  ],
  { timing: true },
);

export const TEXT_CASES: readonly TextCase[] = [...cases.filter((c) => !c.timing), ...cases.filter((c) => c.timing)];
