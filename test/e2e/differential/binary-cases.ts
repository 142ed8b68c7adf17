/**
 * Exchange corpus for the binary-protocol differential test
 * (binary-protocol.test.ts): every case is replayed byte-for-byte against the
 * real memcached 1.6.18 and against memgate, and the replies are compared
 * packet by packet (cas values masked to zero/non-zero, Version bodies and
 * stats entries masked).
 *
 * Conventions
 * - Every case gets its own key prefix (`k('name')` → `<prefix>name`); both
 *   servers start empty.
 * - A step is the request bytes (one Buffer, a list that is concatenated, or
 *   a function of the per-server context for cas values) plus reading options.
 *   By default a Noop with SENTINEL_OPAQUE is appended and the reply is read up
 *   to its answer (binary-packets.ts binaryExchange); a step that leaves the
 *   server waiting for more bytes uses mode 'quiet' (it must expect no reply:
 *   a reply slower than quietMs would be missed), one after which the server
 *   hangs up uses mode 'close', one on a text-protocol connection `text: true`.
 * - The edge cases follow memcached 1.6.18 proto_bin.c (dispatch_bin_command
 *   and friends); comments name the memcached behaviour a case pins down.
 */
import { Opcode } from '../../../src/protocol/binary/opcodes.js';
import {
  arithmeticExtras,
  binaryRequest,
  expiryExtras,
  storeExtras,
  type Bytes,
  type RequestSpec,
} from '../../helpers/binary-packets.js';
import { ITEM_SIZE_MAX, maxValueLength } from './text-cases.js';

export interface BinaryStepContext {
  /** The last non-zero cas this server returned in a reply with this opaque, in this case. */
  cas(opaque: number): bigint;
}

type Payload = Buffer | Buffer[];

export interface BinaryStep {
  send: Payload | ((ctx: BinaryStepContext) => Payload);
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
  /**
   * The connection speaks the text protocol (its first byte was not 0x80): the sentinel is
   * `version\r\n` and the reply up to its VERSION line is rendered as text.
   */
  text?: boolean;
  /** Stats whose values are compared in this step's stats replies (the others are masked). */
  statKeys?: readonly string[];
  /** Open a fresh connection before this step (the previous one is closed). */
  newConnection?: boolean;
}

/** Which servers a case runs against. */
export type CaseGroup = 'default' | 'flushDisabled' | 'sasl';

export interface BinaryCase {
  name: string;
  prefix: string;
  group: CaseGroup;
  steps: BinaryStep[];
  /** Sentinel request: 'version' for SASL servers (Noop needs authentication there). */
  sentinel: 'noop' | 'version';
  /** Depends on the wall clock (expiry); runs last. */
  timing?: boolean;
}

type StepLike = BinaryStep | Payload | ((ctx: BinaryStepContext) => Payload);

function toStep(s: StepLike): BinaryStep {
  if (Buffer.isBuffer(s) || Array.isArray(s) || typeof s === 'function') return { send: s };
  return s;
}

const cases: BinaryCase[] = [];
let caseCounter = 0;

function def(
  name: string,
  build: (k: (suffix?: string) => string) => StepLike[],
  opts: { group?: CaseGroup; timing?: boolean } = {},
): void {
  caseCounter += 1;
  const prefix = `b${String(caseCounter).padStart(3, '0')}_`;
  const k = (suffix = ''): string => prefix + suffix;
  const group = opts.group ?? 'default';
  cases.push({ name, prefix, group, steps: build(k).map(toStep), sentinel: group === 'sasl' ? 'version' : 'noop', timing: opts.timing });
}

// ───────────────────────────── request shorthands ─────────────────────────────

const req = (spec: RequestSpec): Buffer => binaryRequest(spec);

interface Opts {
  opaque?: number;
  cas?: bigint;
}

function get(key: Bytes, opaque = 0, opcode: number = Opcode.GET): Buffer {
  return req({ opcode, key, opaque });
}

function store(opcode: number, key: Bytes, value: Bytes, o: Opts & { flags?: number; exptime?: number } = {}): Buffer {
  return req({ opcode, key, value, extras: storeExtras(o.flags ?? 0, o.exptime ?? 0), opaque: o.opaque, cas: o.cas });
}

const set = (key: Bytes, value: Bytes, o: Opts & { flags?: number; exptime?: number } = {}): Buffer => store(Opcode.SET, key, value, o);

function concat(opcode: number, key: Bytes, value: Bytes, o: Opts = {}): Buffer {
  return req({ opcode, key, value, opaque: o.opaque, cas: o.cas });
}

function arith(opcode: number, key: Bytes, delta: bigint, initial: bigint, exptime: number, o: Opts = {}): Buffer {
  return req({ opcode, key, extras: arithmeticExtras(delta, initial, exptime), opaque: o.opaque, cas: o.cas });
}

function touch(opcode: number, key: Bytes, exptime: number, opaque = 0): Buffer {
  return req({ opcode, key, extras: expiryExtras(exptime), opaque });
}

function del(key: Bytes, o: Opts & { opcode?: number } = {}): Buffer {
  return req({ opcode: o.opcode ?? Opcode.DELETE, key, opaque: o.opaque, cas: o.cas });
}

function flush(opcode: number = Opcode.FLUSH, exptime?: number, opaque = 0): Buffer {
  return req({ opcode, extras: exptime === undefined ? undefined : expiryExtras(exptime), opaque });
}

const noop = (opaque = 0): Buffer => req({ opcode: Opcode.NOOP, opaque });
const version = (opaque = 0): Buffer => req({ opcode: Opcode.VERSION, opaque });
const stat = (group?: string, opaque = 0): Buffer => req({ opcode: Opcode.STAT, key: group, opaque });
/** protocol_binary.h's VERBOSITY: memcached 1.6.18 defines it but serves it as unknown, so memgate's table omits it. */
const VERBOSITY = 0x1b;

/** A key of exactly `len` bytes starting with `prefix`. */
function keyOfLength(prefix: string, len: number): string {
  return (prefix + 'K'.repeat(Math.max(0, len))).slice(0, len);
}

// ───────────────────────────── get family ─────────────────────────────

def('get/getq/getk/getkq: hits and misses', (k) => [
  set(k('a'), 'hello', { flags: 9, opaque: 1 }),
  get(k('a'), 2),
  get(k('a'), 3, Opcode.GETQ),
  get(k('a'), 4, Opcode.GETK),
  get(k('a'), 5, Opcode.GETKQ),
  get(k('missing'), 6),
  // GetQ/GetKQ misses are silent.
  get(k('missing'), 7, Opcode.GETQ),
  // A GetK miss carries the key in the reply.
  get(k('missing'), 8, Opcode.GETK),
  get(k('missing'), 9, Opcode.GETKQ),
  [get(k('missing'), 10, Opcode.GETQ), get(k('a'), 11, Opcode.GETQ), get(k('missing'), 12, Opcode.GETKQ), get(k('a'), 13, Opcode.GETK), get(k('missing'), 14)],
  // The cas field of a request is ignored by get.
  req({ opcode: Opcode.GET, key: k('a'), cas: 12345n, opaque: 15 }),
]);

def('pipelined GetKQ run with hits and misses, terminated by Noop', (k) => {
  const sets: Buffer[] = [];
  for (let i = 0; i < 40; i += 3) sets.push(store(Opcode.SETQ, k(`p${i}`), `value-${i}`, { flags: i, opaque: 1000 + i }));
  const gets: Buffer[] = [];
  for (let i = 0; i < 40; i++) gets.push(get(k(`p${i}`), 2000 + i, Opcode.GETKQ));
  const getqs: Buffer[] = [];
  for (let i = 0; i < 40; i++) getqs.push(get(k(`p${i}`), 3000 + i, Opcode.GETQ));
  return [sets, [...gets, noop(0xabcdef)], [...getqs, get(k('p0'), 4000, Opcode.GETK), noop(0x11)], [get(k('none1'), 1, Opcode.GETKQ), get(k('none2'), 2, Opcode.GETKQ), noop(3)]];
});

def('pipelined gets stay in order with writes, errors and duplicates between them', (k) => {
  const run: Buffer[] = [];
  for (let i = 0; i < 200; i++) run.push(get(k(`p${i % 70}`), 5000 + i, i % 2 === 0 ? Opcode.GETKQ : Opcode.GETQ));
  const big: Buffer[] = [];
  for (let i = 0; i < 30; i++) big.push(store(Opcode.SETQ, k(`big${i}`), String.fromCharCode(65 + (i % 26)).repeat(100_000 + i), { flags: i }));
  return [
    Array.from({ length: 70 }, (_, i) => (i % 3 === 0 ? [] : [store(Opcode.SETQ, k(`p${i}`), `v${i}`, { flags: i })])).flat(),
    // 200 quiet gets with duplicates, more than one batch of keys
    [...run, noop(1)],
    [
      set(k('a'), 'one', { opaque: 2 }),
      get(k('a'), 3),
      store(Opcode.SETQ, k('a'), 'two'),
      get(k('a'), 4, Opcode.GETK),
      del(k('a'), { opcode: Opcode.DELETEQ }),
      get(k('a'), 5),
      get(k('a'), 6, Opcode.GETKQ),
      store(Opcode.ADDQ, k('a'), '7'),
      get(k('a'), 7, Opcode.GETQ),
      arith(Opcode.INCREMENTQ, k('a'), 1n, 0n, 0),
      get(k('a'), 8),
      concat(Opcode.APPENDQ, k('a'), '0'),
      get(k('a'), 9),
      touch(Opcode.GATQ, k('a'), 0, 10),
      req({ opcode: 0x50, opaque: 11 }),
      get(k('a'), 12),
      store(Opcode.REPLACEQ, k('a'), 'last', { flags: 3 }),
      get(k('a'), 13, Opcode.GETKQ),
      get(k('a'), 14, Opcode.GETKQ),
      noop(15),
    ],
    big,
    [...Array.from({ length: 30 }, (_, i) => get(k(`big${29 - i}`), 100 + i, Opcode.GETKQ)), noop(16)],
    // replies of the gets before a malformed request are sent before the close
    { send: [get(k('a'), 17), get(k('p1'), 18, Opcode.GETK), get(k('nope'), 19, Opcode.GETK), req({ opcode: Opcode.GET, opaque: 20 }), get(k('a'), 21)], mode: 'close' },
  ];
});

def('opaque is echoed as sent', (k) => {
  const opaques = [0, 1, 0xff, 0x100, 0x12345678, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
  const steps: StepLike[] = [set(k('a'), 'x')];
  for (const o of opaques) {
    steps.push([get(k('a'), o), get(k('missing'), o), get(k('missing'), o, Opcode.GETK), noop(o), version(o)]);
    steps.push([set(k('b'), 'y', { opaque: o }), del(k('nope'), { opaque: o }), arith(Opcode.INCREMENT, k('nope'), 1n, 0n, 0xffffffff, { opaque: o })]);
    steps.push([touch(Opcode.TOUCH, k('a'), 0, o), req({ opcode: 0x50, opaque: o }), stat('reset', o)]);
  }
  return steps;
});

def('datatype and vbucket fields of requests are ignored', (k) => [
  req({ opcode: Opcode.SET, key: k('a'), value: 'v', extras: storeExtras(1, 0), datatype: 1, vbucket: 7, opaque: 1 }),
  req({ opcode: Opcode.GET, key: k('a'), datatype: 0xff, vbucket: 0xffff, opaque: 2 }),
  req({ opcode: Opcode.GETK, key: k('a'), vbucket: 1, opaque: 3 }),
  req({ opcode: Opcode.NOOP, datatype: 1, vbucket: 2, opaque: 4 }),
]);

def('keys and values are arbitrary bytes', (k) => [
  set(k('sp ace'), 'space'),
  set(k('cr\r\nlf'), 'crlf'),
  set(k('nul\x00mid'), 'nul'),
  set(k('\xff\xfe\x80'), 'high'),
  set(k('ctl\x01\x1b\x7f'), 'ctl'),
  [get(k('sp ace'), 1, Opcode.GETK), get(k('cr\r\nlf'), 2, Opcode.GETK), get(k('nul\x00mid'), 3, Opcode.GETK), get(k('\xff\xfe\x80'), 4, Opcode.GETK), get(k('ctl\x01\x1b\x7f'), 5, Opcode.GETK)],
  // Prefixes and neighbours of those keys are different keys.
  [get(k('sp'), 6, Opcode.GETK), get(k('nul'), 7, Opcode.GETK), get(k('cr'), 8, Opcode.GETK), get(k('\xff\xfe'), 9, Opcode.GETK)],
  // Case and trailing spaces/NULs matter.
  set(k('Key'), 'upper'),
  set(k('key'), 'lower'),
  set(k('x'), 'plain'),
  set(k('x '), 'trailing space'),
  set(k('x\x00'), 'trailing nul'),
  [get(k('Key'), 10, Opcode.GETK), get(k('key'), 11, Opcode.GETK), get(k('KEY'), 12, Opcode.GETK)],
  [get(k('x'), 13, Opcode.GETK), get(k('x '), 14, Opcode.GETK), get(k('x\x00'), 15, Opcode.GETK), get(k('x  '), 16, Opcode.GETK)],
  del(k('x ')),
  [get(k('x'), 17, Opcode.GETK), get(k('x '), 18, Opcode.GETK)],
  // Values with CR LF, NUL and high bytes; empty value.
  set(k('bin'), '\r\n\x00END\r\n\xff'),
  set(k('empty'), ''),
  [get(k('bin'), 19), get(k('empty'), 20), get(k('empty'), 21, Opcode.GETK)],
  concat(Opcode.APPEND, k('empty'), '\r\n'),
  get(k('empty'), 22),
]);

// ───────────────────────────── storage commands ─────────────────────────────

def('set/add/replace and their quiet forms', (k) => [
  store(Opcode.ADD, k('a'), 'one', { opaque: 1 }),
  store(Opcode.ADD, k('a'), 'two', { opaque: 2 }),
  store(Opcode.REPLACE, k('missing'), 'x', { opaque: 3 }),
  store(Opcode.REPLACE, k('a'), 'three', { flags: 4, opaque: 4 }),
  get(k('a'), 5),
  set(k('a'), 'four', { opaque: 6 }),
  get(k('a'), 7),
  // Quiet forms: silent on success, the error is still sent.
  store(Opcode.SETQ, k('q'), 'q1', { opaque: 8 }),
  store(Opcode.ADDQ, k('q'), 'q2', { opaque: 9 }),
  store(Opcode.ADDQ, k('q2'), 'new', { opaque: 10 }),
  store(Opcode.REPLACEQ, k('missing'), 'x', { opaque: 11 }),
  store(Opcode.REPLACEQ, k('q'), 'q3', { opaque: 12 }),
  [get(k('q'), 13), get(k('q2'), 14), get(k('missing'), 15)],
  [store(Opcode.SETQ, k('r'), '1'), store(Opcode.ADDQ, k('r'), '2', { opaque: 16 }), store(Opcode.REPLACEQ, k('r'), '3'), get(k('r'), 17)],
  del(k('a')),
  store(Opcode.ADD, k('a'), 'after delete', { opaque: 18 }),
  get(k('a'), 19),
]);

def('flags round trip', (k) => {
  const flags = [0, 768, 2, 1, 0x7fffffff, 0x80000000, 0xffffffff];
  const steps: StepLike[] = [];
  flags.forEach((f, i) => {
    steps.push(set(k(`f${i}`), `flags ${f}`, { flags: f }));
    steps.push([get(k(`f${i}`), i), get(k(`f${i}`), i, Opcode.GETK), touch(Opcode.TOUCH, k(`f${i}`), 0, i), touch(Opcode.GATK, k(`f${i}`), 0, i)]);
  });
  // append/prepend and incr keep the flags; a new set replaces them
  steps.push(set(k('c'), '5', { flags: 0xdeadbeef }), concat(Opcode.APPEND, k('c'), '0'), concat(Opcode.PREPEND, k('c'), '1'), get(k('c')));
  steps.push(arith(Opcode.INCREMENT, k('c'), 1n, 0n, 0), get(k('c')), set(k('c'), 'x'), get(k('c')));
  return steps;
});

def('exptime: 0, relative, 30 days, absolute past, 0xffffffff', (k) => [
  set(k('zero'), 'x', { exptime: 0 }),
  set(k('rel'), 'x', { exptime: 100 }),
  set(k('30d'), 'x', { exptime: 2592000 }),
  // More than 30 days is a unix time; these are in 1970, the items are born expired.
  set(k('past1'), 'x', { exptime: 2592001 }),
  set(k('past2'), 'x', { exptime: 2678400 }),
  // Unsigned in the binary protocol: 4294967295 is a unix time in 2106, not -1.
  set(k('max'), 'x', { exptime: 0xffffffff }),
  set(k('neg'), 'x', { exptime: 0x80000000 }),
  [get(k('zero'), 1), get(k('rel'), 2), get(k('30d'), 3), get(k('past1'), 4), get(k('past2'), 5), get(k('max'), 6), get(k('neg'), 7)],
  store(Opcode.ADD, k('past2'), 'added', { opaque: 8 }),
  store(Opcode.REPLACE, k('past1'), 'replaced', { opaque: 9 }),
  concat(Opcode.APPEND, k('past1'), 'appended', { opaque: 10 }),
  [get(k('past1'), 11), get(k('past2'), 12)],
  // touch / gat into the past expire the item after answering
  set(k('t'), 'x'),
  touch(Opcode.TOUCH, k('t'), 2678400, 13),
  get(k('t'), 14),
  set(k('g'), 'x'),
  touch(Opcode.GAT, k('g'), 2678400, 15),
  get(k('g'), 16),
  set(k('tmax'), 'x'),
  touch(Opcode.TOUCH, k('tmax'), 0xffffffff, 17),
  get(k('tmax'), 18),
]);

def('cas in the header of set/add/replace', (k) => [
  set(k('a'), 'v1', { opaque: 1 }),
  (ctx) => set(k('a'), 'v2', { cas: ctx.cas(1), opaque: 2 }),
  // stale cas
  (ctx) => set(k('a'), 'v3', { cas: ctx.cas(1), opaque: 3 }),
  get(k('a'), 4),
  (ctx) => store(Opcode.REPLACE, k('a'), 'v4', { cas: ctx.cas(4), opaque: 5 }),
  (ctx) => store(Opcode.REPLACE, k('a'), 'v5', { cas: ctx.cas(4), opaque: 6 }),
  get(k('a'), 7),
  // add with a cas behaves as a cas store (memcached switches to NREAD_CAS)
  (ctx) => store(Opcode.ADD, k('a'), 'v6', { cas: ctx.cas(7), opaque: 8 }),
  store(Opcode.ADD, k('a'), 'v7', { cas: 1n, opaque: 9 }),
  get(k('a'), 10),
  // missing key with a cas: not found
  set(k('missing'), 'x', { cas: 1n, opaque: 11 }),
  store(Opcode.ADD, k('missing'), 'x', { cas: 1n, opaque: 12 }),
  store(Opcode.REPLACE, k('missing'), 'x', { cas: 1n, opaque: 13 }),
  get(k('missing'), 14),
  set(k('a'), 'x', { cas: 0xffffffffffffffffn, opaque: 15 }),
  // quiet forms: mismatch answered, match silent
  store(Opcode.SETQ, k('a'), 'x', { cas: 1n, opaque: 16 }),
  get(k('a'), 17),
  (ctx) => store(Opcode.SETQ, k('a'), 'quiet', { cas: ctx.cas(17), opaque: 18 }),
  get(k('a'), 19),
  store(Opcode.SETQ, k('missing'), 'x', { cas: 5n, opaque: 20 }),
  // the cas returned by a set is the one a later get shows
  set(k('b'), 'b', { opaque: 21 }),
  (ctx) => set(k('b'), 'b2', { cas: ctx.cas(21), opaque: 22 }),
  (ctx) => del(k('b'), { cas: ctx.cas(22), opaque: 23 }),
  get(k('b'), 24),
]);

def('append/prepend and their quiet forms', (k) => [
  concat(Opcode.APPEND, k('missing'), 'x', { opaque: 1 }),
  concat(Opcode.PREPEND, k('missing'), 'x', { opaque: 2 }),
  concat(Opcode.APPENDQ, k('missing'), 'x', { opaque: 3 }),
  concat(Opcode.PREPENDQ, k('missing'), 'x', { opaque: 4 }),
  get(k('missing'), 5),
  set(k('a'), 'mid', { flags: 5 }),
  concat(Opcode.APPEND, k('a'), '-end', { opaque: 6 }),
  concat(Opcode.PREPEND, k('a'), 'start-', { opaque: 7 }),
  concat(Opcode.APPENDQ, k('a'), '!', { opaque: 8 }),
  concat(Opcode.PREPENDQ, k('a'), '¡', { opaque: 9 }),
  get(k('a'), 10),
  concat(Opcode.APPEND, k('a'), '', { opaque: 11 }),
  concat(Opcode.PREPEND, k('a'), '', { opaque: 12 }),
  get(k('a'), 13, Opcode.GETK),
  // with a cas: must match the item's
  (ctx) => concat(Opcode.APPEND, k('a'), '+cas', { cas: ctx.cas(13), opaque: 14 }),
  (ctx) => concat(Opcode.APPEND, k('a'), '+stale', { cas: ctx.cas(13), opaque: 15 }),
  concat(Opcode.PREPEND, k('a'), 'bad-', { cas: 1n, opaque: 16 }),
  concat(Opcode.APPENDQ, k('a'), 'bad', { cas: 1n, opaque: 17 }),
  concat(Opcode.APPEND, k('missing'), 'x', { cas: 1n, opaque: 18 }),
  get(k('a'), 19),
  set(k('bin'), '\x00'),
  concat(Opcode.APPEND, k('bin'), '\r\n\x00'),
  concat(Opcode.PREPEND, k('bin'), '\xff'),
  get(k('bin'), 20),
]);

def('delete and deleteq, with cas', (k) => [
  del(k('missing'), { opaque: 1 }),
  // DeleteQ still answers a miss
  del(k('missing'), { opcode: Opcode.DELETEQ, opaque: 2 }),
  set(k('a'), 'x'),
  del(k('a'), { opcode: Opcode.DELETEQ, opaque: 3 }),
  get(k('a'), 4),
  set(k('a'), 'x', { opaque: 5 }),
  del(k('a'), { cas: 1n, opaque: 6 }),
  del(k('a'), { opcode: Opcode.DELETEQ, cas: 1n, opaque: 7 }),
  get(k('a'), 8),
  (ctx) => del(k('a'), { cas: ctx.cas(8), opaque: 9 }),
  get(k('a'), 10),
  del(k('missing'), { cas: 1n, opaque: 11 }),
  set(k('b'), 'x'),
  del(k('b'), { opaque: 12 }),
  del(k('b'), { opaque: 13 }),
  [set(k('c'), 'x'), del(k('c'), { opcode: Opcode.DELETEQ }), del(k('c'), { opcode: Opcode.DELETEQ, opaque: 14 }), get(k('c'), 15)],
]);

// ───────────────────────────── incr / decr ─────────────────────────────

def('incr/decr on existing values and quiet forms', (k) => [
  set(k('n'), '10', { flags: 7 }),
  arith(Opcode.INCREMENT, k('n'), 5n, 0n, 0, { opaque: 1 }),
  arith(Opcode.DECREMENT, k('n'), 3n, 0n, 0, { opaque: 2 }),
  arith(Opcode.INCREMENTQ, k('n'), 100n, 0n, 0, { opaque: 3 }),
  arith(Opcode.DECREMENTQ, k('n'), 1n, 0n, 0, { opaque: 4 }),
  get(k('n'), 5),
  arith(Opcode.INCREMENT, k('n'), 0n, 0n, 0, { opaque: 6 }),
  // decrement below zero stops at 0
  set(k('d'), '5'),
  arith(Opcode.DECREMENT, k('d'), 10n, 0n, 0, { opaque: 7 }),
  get(k('d'), 8),
  // a shorter result keeps the length, padded with spaces
  set(k('s'), '100'),
  arith(Opcode.DECREMENT, k('s'), 1n, 0n, 0, { opaque: 9 }),
  get(k('s'), 10),
  arith(Opcode.INCREMENT, k('s'), 1n, 0n, 0, { opaque: 11 }),
  get(k('s'), 12),
  // incr wraps at 2^64
  set(k('w'), '18446744073709551615'),
  arith(Opcode.INCREMENT, k('w'), 2n, 0n, 0, { opaque: 13 }),
  get(k('w'), 14),
  set(k('w2'), '18446744073709551610'),
  arith(Opcode.INCREMENT, k('w2'), 0xffffffffffffffffn, 0n, 0, { opaque: 15 }),
  set(k('big'), '9'),
  arith(Opcode.INCREMENT, k('big'), 18446744073709551606n, 0n, 0, { opaque: 16 }),
  get(k('big'), 17),
]);

def('incr/decr on non-numeric values', (k) => [
  set(k('a'), 'abc'),
  arith(Opcode.INCREMENT, k('a'), 1n, 0n, 0, { opaque: 1 }),
  arith(Opcode.DECREMENT, k('a'), 1n, 0n, 0, { opaque: 2 }),
  arith(Opcode.INCREMENTQ, k('a'), 1n, 0n, 0, { opaque: 3 }),
  set(k('b'), '12abc'),
  arith(Opcode.INCREMENT, k('b'), 1n, 0n, 0, { opaque: 4 }),
  set(k('c'), ''),
  arith(Opcode.INCREMENT, k('c'), 1n, 0n, 0, { opaque: 5 }),
  set(k('d'), '18446744073709551616'),
  arith(Opcode.INCREMENT, k('d'), 1n, 0n, 0, { opaque: 6 }),
  set(k('e'), '-1'),
  arith(Opcode.DECREMENT, k('e'), 1n, 0n, 0, { opaque: 7 }),
  [get(k('a'), 8), get(k('b'), 9), get(k('c'), 10), get(k('d'), 11), get(k('e'), 12)],
]);

def('incr/decr on missing keys: initial value, exptime 0xffffffff', (k) => [
  arith(Opcode.INCREMENT, k('a'), 5n, 42n, 0, { opaque: 1 }),
  get(k('a'), 2),
  arith(Opcode.INCREMENT, k('a'), 5n, 42n, 0, { opaque: 3 }),
  arith(Opcode.DECREMENT, k('b'), 5n, 0n, 100, { opaque: 4 }),
  get(k('b'), 5),
  arith(Opcode.DECREMENT, k('c'), 5n, 18446744073709551615n, 0, { opaque: 6 }),
  get(k('c'), 7),
  // exptime 0xffffffff: do not create
  arith(Opcode.INCREMENT, k('none'), 1n, 10n, 0xffffffff, { opaque: 8 }),
  arith(Opcode.DECREMENT, k('none'), 1n, 10n, 0xffffffff, { opaque: 9 }),
  arith(Opcode.INCREMENTQ, k('none'), 1n, 10n, 0xffffffff, { opaque: 10 }),
  arith(Opcode.DECREMENTQ, k('none'), 1n, 10n, 0xffffffff, { opaque: 11 }),
  get(k('none'), 12),
  // quiet create is silent
  arith(Opcode.INCREMENTQ, k('q'), 1n, 7n, 0, { opaque: 13 }),
  get(k('q'), 14),
  // an exptime in 1970 creates an item that is already expired
  arith(Opcode.INCREMENT, k('past'), 1n, 3n, 2678400, { opaque: 15 }),
  get(k('past'), 16),
  // a cas on a missing key is ignored by the create
  arith(Opcode.INCREMENT, k('cas'), 1n, 9n, 0, { cas: 77n, opaque: 17 }),
  get(k('cas'), 18),
]);

def('incr/decr with cas', (k) => [
  set(k('n'), '1', { opaque: 1 }),
  arith(Opcode.INCREMENT, k('n'), 1n, 0n, 0, { cas: 1n, opaque: 2 }),
  arith(Opcode.INCREMENTQ, k('n'), 1n, 0n, 0, { cas: 1n, opaque: 3 }),
  get(k('n'), 4),
  (ctx) => arith(Opcode.INCREMENT, k('n'), 1n, 0n, 0, { cas: ctx.cas(4), opaque: 5 }),
  (ctx) => arith(Opcode.DECREMENT, k('n'), 1n, 0n, 0, { cas: ctx.cas(4), opaque: 6 }),
  // the cas returned by incr is the item's new cas
  (ctx) => arith(Opcode.DECREMENT, k('n'), 1n, 0n, 0, { cas: ctx.cas(5), opaque: 7 }),
  (ctx) => set(k('n'), '50', { cas: ctx.cas(7), opaque: 8 }),
  get(k('n'), 9),
]);

// ───────────────────────────── touch / gat ─────────────────────────────

def('touch, gat, gatq, gatk, gatkq: hits and misses', (k) => [
  touch(Opcode.TOUCH, k('missing'), 0, 1),
  touch(Opcode.GAT, k('missing'), 0, 2),
  touch(Opcode.GATQ, k('missing'), 0, 3),
  touch(Opcode.GATK, k('missing'), 0, 4),
  touch(Opcode.GATKQ, k('missing'), 0, 5),
  set(k('a'), 'value', { flags: 3, opaque: 6 }),
  touch(Opcode.TOUCH, k('a'), 100, 7),
  touch(Opcode.GAT, k('a'), 100, 8),
  touch(Opcode.GATQ, k('a'), 100, 9),
  touch(Opcode.GATK, k('a'), 0, 10),
  touch(Opcode.GATKQ, k('a'), 0, 11),
  [touch(Opcode.GATKQ, k('missing'), 0, 12), touch(Opcode.GATQ, k('a'), 0, 13), touch(Opcode.GATKQ, k('a'), 0, 14), noop(15)],
  // touch/gat keep the cas
  (ctx) => set(k('a'), 'new', { cas: ctx.cas(6), opaque: 16 }),
  get(k('a'), 17),
]);

// ───────────────────────────── misc commands ─────────────────────────────

def('noop and version', () => [noop(), noop(1), [noop(2), noop(3), version(4), noop(5)], version(), version(0x99)]);

def('stat groups', () => [
  stat(undefined, 1),
  stat('settings', 2),
  stat('reset', 3),
  stat('items', 4),
  stat('slabs', 5),
  stat('sizes', 6),
  stat('bogus', 7),
  // `stats conns` exists in the text protocol only
  stat('conns', 8),
  [stat('reset', 9), stat('reset', 10)],
  // group names are case-sensitive; reset and settings match by prefix
  stat('ITEMS', 11),
  stat('Settings', 12),
  stat('resetting', 13),
  stat('settings please', 14),
  stat('items ', 15),
  stat('detail on', 16),
  stat('detail dump', 17),
  stat('detail off', 18),
  stat('detail', 19),
  stat('details', 20),
]);

/**
 * Command counters of `stats`; the steps before each check are the only traffic on the server.
 * get_expired and get_flushed are left out: memgate never sees an expired or flushed row (the
 * database filters them; see the README), and memcached's LRU maintainer thread may reap such
 * items before a get sees them, so its own counts vary from run to run.
 */
const COUNTERS = [
  'cmd_get',
  'get_hits',
  'get_misses',
  'cmd_set',
  'cmd_touch',
  'touch_hits',
  'touch_misses',
  'incr_hits',
  'incr_misses',
  'decr_hits',
  'decr_misses',
  'delete_hits',
  'delete_misses',
  'cas_hits',
  'cas_misses',
  'cas_badval',
  'cmd_flush',
];

def('command counters of binary requests', (k) => {
  const check = (opaque: number): BinaryStep => ({ send: [stat(undefined, opaque), stat('reset', opaque)], statKeys: COUNTERS });
  return [
    stat('reset'),
    [set(k('a'), '1', { opaque: 1 }), get(k('a')), get(k('b')), get(k('a'), 0, Opcode.GETQ), get(k('b'), 0, Opcode.GETQ), get(k('a'), 0, Opcode.GETK), get(k('b'), 0, Opcode.GETKQ)],
    check(100),
    [touch(Opcode.TOUCH, k('a'), 0), touch(Opcode.TOUCH, k('b'), 0), touch(Opcode.GAT, k('a'), 0), touch(Opcode.GATQ, k('b'), 0), touch(Opcode.GATK, k('a'), 0), touch(Opcode.GATKQ, k('b'), 0)],
    check(101),
    [arith(Opcode.INCREMENT, k('a'), 1n, 0n, 0), arith(Opcode.INCREMENT, k('b'), 1n, 0n, 0xffffffff), arith(Opcode.DECREMENT, k('a'), 1n, 0n, 0), arith(Opcode.DECREMENTQ, k('c'), 1n, 0n, 0xffffffff)],
    check(102),
    // created from the initial value: neither a hit nor a miss
    [arith(Opcode.INCREMENT, k('new'), 1n, 5n, 0), arith(Opcode.DECREMENT, k('new2'), 1n, 5n, 0)],
    check(106),
    // refused: cas mismatch, non-numeric value
    [arith(Opcode.INCREMENT, k('a'), 1n, 0n, 0, { cas: 1n }), set(k('text'), 'abc'), arith(Opcode.INCREMENT, k('text'), 1n, 0n, 0), arith(Opcode.DECREMENT, k('text'), 1n, 0n, 0)],
    check(107),
    [del(k('a')), del(k('a')), del(k('b'), { opcode: Opcode.DELETEQ }), set(k('d'), 'x'), del(k('d'), { cas: 1n })],
    check(103),
    get(k('d'), 5),
    (ctx) => [set(k('d'), 'y', { cas: ctx.cas(5) }), set(k('d'), 'z', { cas: ctx.cas(5) }), set(k('none'), 'z', { cas: 9n }), store(Opcode.ADD, k('d'), 'w', { cas: 1n }), concat(Opcode.APPEND, k('d'), '!', { cas: 1n })],
    check(104),
    [set(k('big'), 'v'.repeat(2_000_000)), concat(Opcode.APPEND, k('none'), 'x'), store(Opcode.ADD, k('d'), 'x'), store(Opcode.REPLACE, k('none'), 'x')],
    check(105),
    // an item stored with an exptime in the past is found expired
    [set(k('gone'), 'x', { exptime: 2678400 }), get(k('gone'))],
    check(108),
  ];
});

// memcached checks only extlen and keylen of these: body bytes after the key are not consumed
// and are read as the next request.
def('touch, gat and stat leave body bytes after the key unread', (k) => [
  set(k('a'), 'x', { flags: 1 }),
  req({ opcode: Opcode.TOUCH, key: k('a'), extras: expiryExtras(0), value: noop(1), opaque: 2 }),
  req({ opcode: Opcode.GATK, key: k('a'), extras: expiryExtras(0), value: get(k('a'), 3), opaque: 4 }),
  req({ opcode: Opcode.GATQ, key: k('missing'), extras: expiryExtras(0), value: version(5), opaque: 6 }),
  req({ opcode: Opcode.STAT, key: 'reset', value: noop(7), opaque: 8 }),
  req({ opcode: Opcode.STAT, value: get(k('a'), 9), opaque: 10 }),
]);

def('verbosity is not a binary command in memcached 1.6.18', (k) => [
  // Unknown command, and memcached swallows `bodylen` more bytes after the
  // extras it already consumed: the 4 bytes after the packet are eaten.
  [req({ opcode: VERBOSITY, extras: expiryExtras(1), opaque: 1 }), Buffer.from('\0\0\0\0', 'latin1')],
  req({ opcode: VERBOSITY, opaque: 2 }),
  set(k('a'), 'x'),
  get(k('a'), 3),
]);

def('unknown opcodes', (k) => [
  req({ opcode: 0x50, opaque: 1 }),
  req({ opcode: 0x30, opaque: 2 }),
  req({ opcode: 0x25, opaque: 3 }),
  req({ opcode: 0xff, opaque: 4 }),
  req({ opcode: 0x1f, opaque: 5 }),
  // a value-only body is swallowed
  req({ opcode: 0x50, value: 'some body', opaque: 6 }),
  // with a key, memcached swallows `bodylen` bytes after the key: pad for it
  [req({ opcode: 0x51, key: 'abc', value: 'xyz', opaque: 7 }), Buffer.from('pad', 'latin1')],
  set(k('a'), 'still works'),
  get(k('a'), 8),
]);

def('SASL opcodes without SASL', (k) => [
  req({ opcode: Opcode.SASL_LIST_MECHS, opaque: 1 }),
  req({ opcode: Opcode.SASL_AUTH, key: 'PLAIN', value: '\0user\0pass', opaque: 2 }),
  req({ opcode: Opcode.SASL_STEP, key: 'PLAIN', value: '\0user\0pass', opaque: 3 }),
  set(k('a'), 'x'),
  get(k('a'), 4),
  { send: req({ opcode: Opcode.SASL_LIST_MECHS, key: 'PLAIN', opaque: 5 }), mode: 'close' },
  { send: req({ opcode: Opcode.SASL_AUTH, value: 'x', opaque: 6 }), mode: 'close', newConnection: true },
]);

def('quit and quitq', (k) => [
  set(k('a'), 'x'),
  { send: req({ opcode: Opcode.QUIT, opaque: 1 }), mode: 'close' },
  { send: req({ opcode: Opcode.QUITQ, opaque: 2 }), mode: 'close', newConnection: true },
  // replies before the quit are sent, requests after it are ignored
  { send: [get(k('a'), 3), req({ opcode: Opcode.QUIT, opaque: 4 }), del(k('a'))], mode: 'close', newConnection: true },
  { send: [store(Opcode.SETQ, k('b'), 'y'), req({ opcode: Opcode.QUITQ }), del(k('b'))], mode: 'close', newConnection: true },
  { send: [get(k('a'), 5), get(k('b'), 6)], newConnection: true },
]);

// ───────────────────────────── item size limit ─────────────────────────────

def('value of exactly the maximum size vs one byte more', (k) => {
  const key = k('m');
  const max0 = maxValueLength(key.length, 0);
  const max1 = maxValueLength(key.length, 1);
  return [
    set(key, 'v'.repeat(max0), { opaque: 1 }),
    touch(Opcode.TOUCH, key, 0, 2),
    set(key, 'v'.repeat(max0 + 1), { opaque: 3 }),
    touch(Opcode.TOUCH, key, 0, 4),
    set(key, 'w'.repeat(max1), { flags: 1, opaque: 5 }),
    touch(Opcode.TOUCH, key, 0, 6),
    set(key, 'w'.repeat(max1 + 1), { flags: 1, opaque: 7 }),
    touch(Opcode.TOUCH, key, 0, 8),
    set(key, 'x'.repeat(max0 - 3), { opaque: 9 }),
    get(key, 10),
  ];
});

def('too-large value: body swallowed; set removes the old item, other commands keep it', (k) => {
  const big = 'v'.repeat(2_000_000);
  const steps: StepLike[] = [];
  for (const [name, opcode] of [
    ['set', Opcode.SET],
    ['add', Opcode.ADD],
    ['replace', Opcode.REPLACE],
    ['setq', Opcode.SETQ],
  ] as const) {
    steps.push(set(k(name), 'old'), store(opcode, k(name), big, { opaque: 1 }), get(k(name), 2));
  }
  for (const [name, opcode] of [
    ['append', Opcode.APPEND],
    ['prependq', Opcode.PREPENDQ],
  ] as const) {
    steps.push(set(k(name), 'old'), concat(opcode, k(name), big, { opaque: 3 }), get(k(name), 4));
  }
  steps.push(
    set(k('cas'), 'old', { opaque: 5 }),
    (ctx) => set(k('cas'), big, { cas: ctx.cas(5), opaque: 6 }),
    get(k('cas'), 7),
    set(k('missing'), 'g'.repeat(ITEM_SIZE_MAX), { opaque: 8 }),
    get(k('missing'), 9),
    // the next packet right behind the swallowed body is answered
    [set(k('after'), big, { opaque: 10 }), get(k('cas'), 11), set(k('after'), 'small', { opaque: 12 }), get(k('after'), 13)],
  );
  return steps;
});

def('too-large value sent in pieces', (k) => {
  const big = set(k('a'), 'v'.repeat(1_500_000), { opaque: 2 });
  return [
    set(k('a'), 'old'),
    { send: big.subarray(0, 5000), mode: 'quiet', quietMs: 200 },
    { send: big.subarray(5000, 1_000_000), mode: 'quiet', quietMs: 200 },
    big.subarray(1_000_000),
    get(k('a'), 3),
  ];
});

def('append/prepend beyond the maximum size', (k) => {
  const key = k('ap');
  const max = maxValueLength(key.length, 0);
  return [
    set(key, 'a'.repeat(max - 10)),
    concat(Opcode.APPEND, key, 'b'.repeat(10), { opaque: 1 }),
    touch(Opcode.TOUCH, key, 0, 2),
    concat(Opcode.APPEND, key, 'c', { opaque: 3 }),
    concat(Opcode.PREPENDQ, key, 'd', { opaque: 4 }),
    touch(Opcode.TOUCH, key, 0, 5),
  ];
});

// ───────────────────────────── framing ─────────────────────────────

def('packets split byte by byte and inside header, extras, key and value', (k) => {
  const s = set(k('split'), 'hello world', { flags: 5, opaque: 1 });
  // header 0..24, extras 24..32, key 32..32+n, value after
  const keyAt = 32;
  const valueAt = keyAt + k('split').length;
  const batch = [set(k('a'), 'A', { opaque: 2 }), get(k('a'), 3, Opcode.GETK), get(k('zz'), 4, Opcode.GETKQ), arith(Opcode.INCREMENT, k('n'), 1n, 5n, 0, { opaque: 5 }), del(k('a'), { opaque: 6 }), req({ opcode: 0x50, opaque: 7 }), stat('reset', 8)];
  return [
    { send: batch, chunkSize: 1 },
    { send: s.subarray(0, 10), mode: 'quiet', quietMs: 120 },
    { send: s.subarray(10, 28), mode: 'quiet', quietMs: 120 },
    { send: s.subarray(28, keyAt + 3), mode: 'quiet', quietMs: 120 },
    { send: s.subarray(keyAt + 3, valueAt + 4), mode: 'quiet', quietMs: 120 },
    s.subarray(valueAt + 4),
    { send: get(k('split'), 9, Opcode.GETK), chunkSize: 7, chunkDelayMs: 1 },
    { send: [get(k('split'), 10).subarray(0, 23)], mode: 'quiet', quietMs: 120 },
    { send: [get(k('split'), 10).subarray(23)] },
    { send: [set(k('b'), 'x'.repeat(5000), { opaque: 11 }), get(k('b'), 12)], chunkSize: 1000 },
  ];
});

def('key of 250 bytes is accepted', (k) => {
  const key = keyOfLength(k('L'), 250);
  return [
    set(key, 'x', { opaque: 1 }),
    get(key, 2, Opcode.GETK),
    arith(Opcode.INCREMENT, key, 1n, 1n, 0, { opaque: 3 }),
    touch(Opcode.GATK, key, 0, 4),
    concat(Opcode.APPEND, key, 'y', { opaque: 5 }),
    del(key, { opaque: 6 }),
  ];
});

// Each of these is answered with an error and the connection is closed.
def('malformed requests close the connection', (k) => {
  const closing: Buffer[] = [
    // keylen > bodylen, keylen + extlen > bodylen: Unknown command
    req({ opcode: Opcode.GET, key: k('abcde'), bodylen: 3 }),
    req({ opcode: Opcode.SET, key: k('a'), extras: storeExtras(0, 0), value: 'v', bodylen: 10 }),
    req({ opcode: 0x50, key: 'abc', bodylen: 2 }),
    // key longer than 250: Invalid arguments
    get(keyOfLength(k('L'), 251), 1),
    set(keyOfLength(k('L'), 251), 'x', { opaque: 2 }),
    del(keyOfLength(k('L'), 300), { opaque: 3 }),
    // wrong extlen / missing key / unexpected body
    req({ opcode: Opcode.SET, key: k('a'), extras: expiryExtras(0), value: 'v', opaque: 4 }),
    req({ opcode: Opcode.SET, key: k('a'), value: 'v', opaque: 5 }),
    req({ opcode: Opcode.SETQ, key: k('a'), extras: Buffer.alloc(12), value: 'v', opaque: 6 }),
    req({ opcode: Opcode.ADD, extras: storeExtras(0, 0), value: 'v', opaque: 7 }),
    req({ opcode: Opcode.GET, key: k('a'), extras: expiryExtras(0), opaque: 8 }),
    req({ opcode: Opcode.GET, opaque: 9 }),
    req({ opcode: Opcode.GETKQ, opaque: 10 }),
    req({ opcode: Opcode.GET, key: k('a'), value: 'v', opaque: 11 }),
    req({ opcode: Opcode.INCREMENT, key: k('a'), extras: Buffer.alloc(8), opaque: 12 }),
    req({ opcode: Opcode.DECREMENT, key: k('a'), extras: arithmeticExtras(1n, 0n, 0), value: 'v', opaque: 13 }),
    req({ opcode: Opcode.INCREMENTQ, extras: arithmeticExtras(1n, 0n, 0), opaque: 14 }),
    req({ opcode: Opcode.TOUCH, key: k('a'), opaque: 15 }),
    req({ opcode: Opcode.GAT, key: k('a'), extras: Buffer.alloc(8), opaque: 16 }),
    req({ opcode: Opcode.GATKQ, extras: expiryExtras(0), opaque: 17 }),
    req({ opcode: Opcode.FLUSH, extras: Buffer.alloc(8), opaque: 18 }),
    req({ opcode: Opcode.FLUSH, key: 'x', opaque: 19 }),
    req({ opcode: Opcode.FLUSHQ, value: 'abcd', opaque: 20 }),
    req({ opcode: Opcode.DELETE, key: k('a'), extras: expiryExtras(0), opaque: 21 }),
    req({ opcode: Opcode.DELETE, key: k('a'), value: 'v', opaque: 22 }),
    req({ opcode: Opcode.DELETEQ, opaque: 23 }),
    req({ opcode: Opcode.APPEND, key: k('a'), extras: expiryExtras(0), value: 'v', opaque: 24 }),
    req({ opcode: Opcode.PREPENDQ, value: 'v', opaque: 25 }),
    req({ opcode: Opcode.NOOP, value: 'x', opaque: 26 }),
    req({ opcode: Opcode.VERSION, key: 'x', opaque: 27 }),
    req({ opcode: Opcode.QUIT, value: 'x', opaque: 28 }),
    req({ opcode: Opcode.QUITQ, extras: expiryExtras(0), opaque: 29 }),
    req({ opcode: Opcode.STAT, key: 'items', extras: expiryExtras(0), opaque: 30 }),
  ];
  const steps: StepLike[] = [set(k('a'), 'kept')];
  for (const packet of closing) steps.push({ send: packet, mode: 'close', newConnection: true });
  // none of them changed anything
  steps.push({ send: get(k('a'), 31), newConnection: true });
  return steps;
});

def('announced lengths are waited for', (k) => {
  const longKey = get(keyOfLength(k('L'), 300), 1);
  const longExtras = req({ opcode: Opcode.GET, key: k('a'), extras: Buffer.alloc(255, 0x65), opaque: 2 });
  return [
    set(k('a'), 'x'),
    // the key is read in full before the length check closes the connection
    { send: longKey.subarray(0, 34), mode: 'quiet', quietMs: 150 },
    { send: longKey.subarray(34), mode: 'close' },
    { send: longExtras.subarray(0, 100), mode: 'quiet', quietMs: 150, newConnection: true },
    { send: longExtras.subarray(100), mode: 'close' },
    { send: get(k('a'), 3), newConnection: true },
  ];
});

def('replies to refused requests follow their swallowed bodies', (k) => {
  const unknown = req({ opcode: 0x50, value: Buffer.alloc(100_000, 0x75), opaque: 1 });
  const tooLarge = set(k('a'), 'v'.repeat(2_000_000), { opaque: 3 });
  const saslOff = req({ opcode: Opcode.SASL_AUTH, key: 'PLAIN', value: Buffer.alloc(100_000, 0x73), opaque: 7 });
  return [
    set(k('a'), 'x'),
    { send: unknown.subarray(0, 50_000), mode: 'quiet', quietMs: 150 },
    [unknown.subarray(50_000), get(k('a'), 2)],
    { send: saslOff.subarray(0, 50_000), mode: 'quiet', quietMs: 150 },
    [saslOff.subarray(50_000), get(k('a'), 8)],
    { send: tooLarge.subarray(0, 50_000), mode: 'quiet', quietMs: 150 },
    [tooLarge.subarray(50_000), get(k('a'), 4)],
    // a 2 GiB value is refused without being buffered; nothing is answered while its body would arrive
    { send: req({ opcode: Opcode.SET, key: k('huge'), extras: storeExtras(0, 0), bodylen: 0x80000000, opaque: 5 }), mode: 'quiet', quietMs: 300 },
    { send: get(k('huge'), 6), newConnection: true },
  ];
});

def('bad magic closes the connection', (k) => [
  set(k('a'), 'x'),
  { send: req({ opcode: Opcode.GET, key: k('a'), magic: 0x81 }), mode: 'close' },
  { send: get(k('a'), 1), newConnection: true },
  { send: req({ opcode: Opcode.NOOP, magic: 0x00 }), mode: 'close' },
  { send: get(k('a'), 2), newConnection: true },
  { send: req({ opcode: Opcode.NOOP, magic: 0x18 }), mode: 'close' },
  // text after binary: a line is read as a header once 24 bytes are there
  { send: get(k('a'), 3), newConnection: true },
  { send: Buffer.from('get foo\r\n', 'latin1'), mode: 'quiet', quietMs: 200 },
  { send: Buffer.from(`get ${k('a')} ${k('b')}\r\n`, 'latin1'), mode: 'close' },
  // the first byte chooses the protocol: anything but 0x80 is text
  { send: Buffer.concat([req({ opcode: Opcode.GET, key: 'abc', magic: 0x81 }), Buffer.from('\r\n', 'latin1')]), text: true, newConnection: true },
  { send: Buffer.from(`get ${k('a')}\r\n`, 'latin1'), text: true },
]);

def('items are shared with the text protocol', (k) => [
  set(k('bin'), 'from binary', { flags: 0xffffffff, opaque: 1 }),
  { send: Buffer.from(`set ${k('text')} 77 0 9\r\nfrom text\r\nget ${k('bin')}\r\nincr ${k('n')} 1\r\n`, 'latin1'), text: true, newConnection: true },
  { send: [get(k('text'), 2, Opcode.GETK), arith(Opcode.INCREMENT, k('n'), 1n, 7n, 0, { opaque: 3 })], newConnection: true },
  { send: Buffer.from(`get ${k('n')}\r\nappend ${k('bin')} 0 0 1\r\n!\r\n`, 'latin1'), text: true, newConnection: true },
  { send: get(k('bin'), 4, Opcode.GETK), newConnection: true },
]);

// ───────────────────────────── flush (late: it empties the whole server) ─────────────────────────────

def('flush and flushq, with and without delay', (k) => [
  set(k('a'), 'x'),
  flush(Opcode.FLUSH, undefined, 1),
  get(k('a'), 2),
  set(k('a'), 'y'),
  get(k('a'), 3),
  flush(Opcode.FLUSHQ, undefined, 4),
  get(k('a'), 5),
  set(k('a'), 'z'),
  flush(Opcode.FLUSH, 0, 6),
  get(k('a'), 7),
  set(k('a'), 'w'),
  flush(Opcode.FLUSHQ, 0, 8),
  get(k('a'), 9),
  // a delay far in the future: nothing disappears now
  set(k('b'), 'before'),
  flush(Opcode.FLUSH, 1000, 10),
  set(k('c'), 'after'),
  [get(k('b'), 11), get(k('c'), 12)],
  flush(Opcode.FLUSHQ, 2000, 13),
  [get(k('b'), 14), get(k('c'), 15)],
  // an immediate flush still empties everything
  flush(Opcode.FLUSH, undefined, 16),
  [get(k('b'), 17), get(k('c'), 18)],
  [set(k('d'), 'd'), flush(Opcode.FLUSHQ), store(Opcode.ADD, k('d'), 'added', { opaque: 19 }), get(k('d'), 20)],
  [set(k('e'), 'e'), get(k('e'), 21), get(k('d'), 22, Opcode.GETKQ), flush(Opcode.FLUSHQ), get(k('e'), 23), get(k('d'), 24, Opcode.GETK), noop(25)],
]);

def(
  'flush disabled (-F): Auth failure',
  (k) => [
    set(k('a'), 'x'),
    flush(Opcode.FLUSH, undefined, 1),
    flush(Opcode.FLUSHQ, undefined, 2),
    flush(Opcode.FLUSH, 0, 3),
    flush(Opcode.FLUSHQ, 1000, 4),
    get(k('a'), 5),
    // length checks come first
    { send: req({ opcode: Opcode.FLUSH, extras: Buffer.alloc(8), opaque: 6 }), mode: 'close' },
    { send: get(k('a'), 7), newConnection: true },
  ],
  { group: 'flushDisabled' },
);

// ───────────────────────────── SASL (memcached -S / memgate sasl.passwordFile) ─────────────────────────────

const SASL_USER = 'user';
const SASL_PASSWORD = 'pass';
const SASL_USER2 = 'second';
const SASL_PASSWORD2 = 'S3cret pass!\u00e9';
/** The accounts both servers know (memcached: Cyrus sasldb; memgate: sasl.passwordFile). */
export const SASL_USERS: ReadonlyArray<{ user: string; password: string }> = [
  { user: SASL_USER, password: SASL_PASSWORD },
  { user: SASL_USER2, password: SASL_PASSWORD2 },
];

const auth = (data: string, mech = 'PLAIN', opaque = 0): Buffer => req({ opcode: Opcode.SASL_AUTH, key: mech, value: data, opaque });
const step = (data: string, mech = 'PLAIN', opaque = 0): Buffer => req({ opcode: Opcode.SASL_STEP, key: mech, value: data, opaque });
const GOOD = `\0${SASL_USER}\0${SASL_PASSWORD}`;
const sasl = { group: 'sasl' } as const;

def('sasl: list mechanisms and version before authentication', () => [req({ opcode: Opcode.SASL_LIST_MECHS, opaque: 1 }), version(2), [version(3), req({ opcode: Opcode.SASL_LIST_MECHS, opaque: 4 })]], sasl);

def(
  'sasl: any other command before authentication fails and closes',
  (k) => [
    { send: get(k('a'), 1), mode: 'close' },
    { send: noop(2), mode: 'close', newConnection: true },
    { send: set(k('a'), 'x', { opaque: 3 }), mode: 'close', newConnection: true },
    { send: store(Opcode.SETQ, k('a'), 'x', { opaque: 4 }), mode: 'close', newConnection: true },
    { send: stat(undefined, 5), mode: 'close', newConnection: true },
    { send: req({ opcode: Opcode.QUIT, opaque: 6 }), mode: 'close', newConnection: true },
    { send: flush(Opcode.FLUSH, undefined, 7), mode: 'close', newConnection: true },
    { send: req({ opcode: 0x50, opaque: 8 }), mode: 'close', newConnection: true },
    { send: req({ opcode: VERBOSITY, extras: expiryExtras(0), opaque: 9 }), mode: 'close', newConnection: true },
    // the error comes before the length checks
    { send: req({ opcode: Opcode.GET, opaque: 10 }), mode: 'close', newConnection: true },
    // but after the keylen/bodylen check
    { send: req({ opcode: Opcode.GET, key: 'abc', bodylen: 1, opaque: 11 }), mode: 'close', newConnection: true },
    // a text line is read as a header with a bad magic
    { send: Buffer.from('get some_key_of_some_length\r\n', 'latin1'), mode: 'close', newConnection: true },
  ],
  sasl,
);

def(
  'sasl: PLAIN authentication, then commands work',
  (k) => [
    auth(GOOD, 'PLAIN', 1),
    set(k('a'), 'x', { opaque: 2 }),
    [get(k('a'), 3), noop(4), stat('reset', 5), del(k('a'), { opaque: 6 }), get(k('a'), 7, Opcode.GETK)],
    // authentication and a command in one write
    { send: [auth(GOOD, 'PLAIN', 8), get(k('a'), 9)], newConnection: true },
    { send: [auth(GOOD, 'PLAIN', 10), req({ opcode: Opcode.QUIT, opaque: 11 })], mode: 'close', newConnection: true },
  ],
  sasl,
);

def(
  'sasl: failed authentication answers Auth failure and keeps the connection unauthenticated',
  (k) => [
    auth(`\0${SASL_USER}\0wrong`, 'PLAIN', 1),
    auth(`\0nobody\0${SASL_PASSWORD}`, 'PLAIN', 2),
    auth(`\0${SASL_USER}\0${SASL_PASSWORD}x`, 'PLAIN', 3),
    auth(`\0${SASL_USER}\0`, 'PLAIN', 4),
    auth('garbage', 'PLAIN', 5),
    version(6),
    { send: get(k('a'), 7), mode: 'close' },
    // a later success still works
    { send: [auth(`\0${SASL_USER}\0wrong`, 'PLAIN', 8), auth(GOOD, 'PLAIN', 9), get(k('a'), 10)], newConnection: true },
  ],
  sasl,
);

// memcached (Cyrus SASL) refuses a second AUTH on a connection that is already
// authenticated, and the failure drops the authentication.
def(
  'sasl: a second AUTH on an authenticated connection fails and drops the authentication',
  (k) => [auth(GOOD, 'PLAIN', 1), get(k('a'), 2), auth(GOOD, 'PLAIN', 3), { send: get(k('a'), 4), mode: 'close' }],
  sasl,
);

def(
  'sasl: a failed authentication after a successful one drops it',
  (k) => [auth(GOOD, 'PLAIN', 1), get(k('a'), 2), auth(`\0${SASL_USER}\0wrong`, 'PLAIN', 3), { send: get(k('a'), 4), mode: 'close' }],
  sasl,
);

def(
  'sasl: authentication is per connection',
  (k) => [auth(GOOD, 'PLAIN', 1), set(k('a'), 'x'), { send: get(k('a'), 2), mode: 'close', newConnection: true }],
  sasl,
);

def(
  'sasl: STEP without AUTH, unknown mechanism',
  (k) => [
    step(GOOD, 'PLAIN', 1),
    auth(GOOD, 'CRAM-MD5', 2),
    auth(GOOD, 'NOPE', 3),
    { send: get(k('a'), 4), mode: 'close' },
  ],
  sasl,
);

def('sasl: PLAIN with an authorization id equal to the user', (k) => [auth(`${SASL_USER}\0${SASL_USER}\0${SASL_PASSWORD}`, 'PLAIN', 1), get(k('a'), 2)], sasl);

def(
  'sasl: PLAIN details',
  (k) => {
    const utf8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
    return [
      // an authorization id other than the user is refused
      auth(`other\0${SASL_USER}\0${SASL_PASSWORD}`, 'PLAIN', 1),
      // user names are case-sensitive; nothing may follow the password
      auth(`\0USER\0${SASL_PASSWORD}`, 'PLAIN', 2),
      auth(`${GOOD}\0extra`, 'PLAIN', 3),
      auth(utf8(`\0${SASL_USER2}\0${SASL_PASSWORD2.slice(0, 3)}`), 'PLAIN', 4),
      // a mechanism name longer than 32 bytes: Invalid arguments, the data is swallowed
      auth(GOOD, 'P'.repeat(33), 5),
      auth(GOOD, 'P'.repeat(32), 6),
      version(7),
      { send: get(k('a'), 8), mode: 'close' },
      // a second user, password with spaces and non-ASCII bytes
      { send: [auth(utf8(`\0${SASL_USER2}\0${SASL_PASSWORD2}`), 'PLAIN', 9), get(k('a'), 10)], newConnection: true },
    ];
  },
  sasl,
);

def(
  'sasl: auth counters',
  () => [
    [auth(GOOD, 'PLAIN', 1), stat('reset', 2)],
    { send: [auth(`\0${SASL_USER}\0wrong`, 'PLAIN', 3), auth(GOOD, 'NOPE', 4), step(GOOD, 'PLAIN', 5), req({ opcode: Opcode.SASL_LIST_MECHS, opaque: 6 })], newConnection: true },
    { send: [auth(GOOD, 'PLAIN', 7), stat(undefined, 8)], newConnection: true, statKeys: ['auth_cmds', 'auth_errors'] },
  ],
  sasl,
);

// Cyrus SASL compares mechanism names without regard to case.
def('sasl: mechanism names are not case-sensitive', (k) => [[auth(GOOD, 'plain', 1), get(k('a'), 2)], { send: [auth(GOOD, 'Plain', 3), get(k('a'), 4)], newConnection: true }], sasl);

def(
  'sasl: malformed SASL requests close the connection',
  () => [
    { send: req({ opcode: Opcode.SASL_AUTH, value: GOOD, opaque: 1 }), mode: 'close' },
    { send: req({ opcode: Opcode.SASL_AUTH, key: 'PLAIN', extras: expiryExtras(0), value: GOOD, opaque: 2 }), mode: 'close', newConnection: true },
    { send: req({ opcode: Opcode.SASL_LIST_MECHS, key: 'x', opaque: 3 }), mode: 'close', newConnection: true },
    { send: req({ opcode: Opcode.VERSION, value: 'x', opaque: 4 }), mode: 'close', newConnection: true },
  ],
  sasl,
);

// ───────────────────────────── timing (keep last) ─────────────────────────────

def(
  'expiry after ~2 s through binary exptimes',
  (k) => [
    set(k('rel1'), 'x', { exptime: 1 }),
    set(k('rel100'), 'x', { exptime: 100 }),
    set(k('touchShort'), 'x', { exptime: 100 }),
    touch(Opcode.TOUCH, k('touchShort'), 1),
    set(k('touchLong'), 'x', { exptime: 2 }),
    touch(Opcode.TOUCH, k('touchLong'), 100),
    set(k('gatShort'), 'x'),
    touch(Opcode.GATQ, k('gatShort'), 1),
    set(k('touch0'), 'x', { exptime: 2 }),
    touch(Opcode.TOUCH, k('touch0'), 0),
    () => set(k('abs1'), 'x', { exptime: Math.floor(Date.now() / 1000) + 1 }),
    arith(Opcode.INCREMENT, k('incr'), 1n, 5n, 1),
    set(k('append'), 'x', { exptime: 2 }),
    // exptime 2 where a command follows at once: an exptime of 1 may already have run out in
    // memcached, whose clock ticks once a second, by the time the next packet arrives.
    concat(Opcode.APPEND, k('append'), 'y'),
    {
      sleepMs: 2600,
      send: ['rel1', 'rel100', 'touchShort', 'touchLong', 'gatShort', 'touch0', 'abs1', 'incr', 'append'].map((s, i) => get(k(s), i + 1, Opcode.GETK)),
    },
    arith(Opcode.INCREMENT, k('rel1'), 1n, 0n, 0xffffffff, { opaque: 20 }),
    store(Opcode.REPLACE, k('rel1'), 'x', { opaque: 21 }),
    store(Opcode.ADD, k('rel1'), 'new', { opaque: 22 }),
    get(k('rel1'), 23),
  ],
  { timing: true },
);

export const BINARY_CASES: readonly BinaryCase[] = [...cases.filter((c) => !c.timing), ...cases.filter((c) => c.timing)];
