/**
 * fast-check generators of memcached wire input, shared by the parser property tests and the
 * differential fuzzer: valid and invalid text, meta and binary commands over a small key space
 * (so that commands interact), random bytes, and the points where a write is cut. A command is
 * a template rendered per server and per run: its keys get the run's prefix, and a CAS it
 * sends is the real one that server last returned for the key, or a stale one.
 */
import fc from 'fast-check';
import { Opcode } from '../../src/protocol/binary/opcodes.js';
import { arithmeticExtras, binaryRequest, expiryExtras, storeExtras } from '../helpers/binary-packets.js';

export interface RenderContext {
  /** prepended to every key index, so that runs do not see each other's items */
  prefix: string;
  /** the CAS this server last returned for key `index` (text: by gets/gats; binary: any reply), if any */
  cas(index: number): bigint | undefined;
}

export interface Op {
  label: string;
  render(ctx: RenderContext): Buffer;
  /**
   * sent in a write of its own: memcached drops the unsent replies of the commands before it
   * in the same read (a get with a too long key), a documented difference
   */
  alone?: boolean;
}

const KEYS = 4;
const keyIndex = fc.integer({ min: 0, max: KEYS - 1 });
const key = (ctx: RenderContext, i: number): string => `${ctx.prefix}${i}`;
const LONG_KEY = 'L'.repeat(251);

/** Values: short, sometimes numeric, sometimes holding CR/LF. */
const value = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{0,8}$/),
  fc.constantFrom('0', '1', '42', '18446744073709551615', '18446744073709551614', ' 5', '12abc', '-1', 'a\r\nb'),
);
const exptime = fc.constantFrom('0', '0', '0', '100', '3600', '-1', '2592001', 'x');
const number = fc.oneof(
  fc.bigInt({ min: 0n, max: 100n }).map(String),
  fc.constantFrom('18446744073709551615', '18446744073709551616', '-1', 'abc', '1x', ''),
);
const noreply = fc.constantFrom('', '', '', ' noreply');

/** A stale CAS for a key whose real one is not known: above any CAS either server reaches in a run, below 2^64. */
const STALE_UNKNOWN_CAS = 10n ** 15n;

/** CAS to send: the real one, a stale one, zero, or out of range. */
type CasChoice = 'real' | 'stale' | 'zero' | 'huge';
const casChoice = fc.constantFrom<CasChoice>('real', 'real', 'stale', 'zero', 'huge');
function casText(ctx: RenderContext, i: number, choice: CasChoice): string {
  const real = ctx.cas(i);
  if (choice === 'real' && real !== undefined) return String(real);
  if (choice === 'zero') return '0';
  if (choice === 'huge') return '18446744073709551616';
  // A CAS the server never returned must not be one it may have given: memcached counts from
  // 1 per process, memgate hands out blocks from the database, so a small literal can match
  // memcached's item by chance and never memgate's.
  return real === undefined ? String(STALE_UNKNOWN_CAS) : String(real + 1000n);
}

function textOp(label: string, render: (ctx: RenderContext) => string): Op {
  return { label, render: (ctx) => Buffer.from(render(ctx), 'latin1') };
}

const storage = fc
  .record({ cmd: fc.constantFrom('set', 'add', 'replace', 'append', 'prepend', 'cas'), i: keyIndex, v: value, flags: fc.constantFrom('0', '5', '4294967295'), exp: exptime, nr: noreply, lenDelta: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 1, -1), cas: casChoice })
  .map(({ cmd, i, v, flags, exp, nr, lenDelta, cas }) => textOp(`${cmd} ${i}`, (ctx) => {
    const casArg = cmd === 'cas' ? ` ${casText(ctx, i, cas)}` : '';
    return `${cmd} ${key(ctx, i)} ${flags} ${exp} ${Math.max(0, v.length + lenDelta)}${casArg}${nr}\r\n${v}\r\n`;
  }));

const retrieval = fc
  .record({ cmd: fc.constantFrom('get', 'gets', 'gat', 'gats'), keys: fc.array(fc.oneof(keyIndex, fc.constant(-1)), { minLength: 1, maxLength: 4 }), exp: exptime })
  .map(({ cmd, keys, exp }): Op => ({
    ...textOp(`${cmd}`, (ctx) => {
      const names = keys.map((i) => (i < 0 ? LONG_KEY : key(ctx, i))).join(' ');
      return cmd.startsWith('gat') ? `${cmd} ${exp} ${names}\r\n` : `${cmd} ${names}\r\n`;
    }),
    alone: keys.includes(-1),
  }));

const arithmetic = fc
  .record({ cmd: fc.constantFrom('incr', 'decr'), i: keyIndex, n: number, nr: noreply })
  .map(({ cmd, i, n, nr }) => textOp(`${cmd} ${i}`, (ctx) => `${cmd} ${key(ctx, i)} ${n}${nr}\r\n`));

const others = fc
  .record({ cmd: fc.constantFrom('delete', 'touch'), i: keyIndex, exp: exptime, nr: noreply })
  .map(({ cmd, i, exp, nr }) => textOp(`${cmd} ${i}`, (ctx) => (cmd === 'delete' ? `delete ${key(ctx, i)}${nr}\r\n` : `touch ${key(ctx, i)} ${exp}${nr}\r\n`)));

/** Meta flags with their tokens; O with a too long opaque and q among them. */
const metaFlag = fc.oneof(
  fc.constantFrom('v', 't', 'c', 'f', 'h', 'k', 'l', 's', 'u', 'q', 'I', 'x', 'O123', `O${'o'.repeat(33)}`, 'E'),
  // C takes its value from casText (the meta command's withCas), never a small literal.
  fc.tuple(fc.constantFrom('T', 'N', 'R', 'F', 'D', 'J', 'M'), fc.constantFrom('0', '1', '30', '-1', 'x', 'I', 'D', 'A', 'P', 'S', '+', '5')).map(([f, v]) => f + v),
);

const meta = fc
  .record({ cmd: fc.constantFrom('mg', 'ms', 'md', 'ma', 'me', 'mn'), i: keyIndex, flags: fc.array(metaFlag, { maxLength: 5 }), v: value, cas: casChoice, withCas: fc.boolean() })
  .map(({ cmd, i, flags, v, cas, withCas }) => textOp(`${cmd} ${i}`, (ctx) => {
    const casFlag = withCas && cmd !== 'me' && cmd !== 'mn' ? ` C${casText(ctx, i, cas)}` : '';
    const flagText = flags.map((f) => ` ${f}`).join('') + casFlag;
    if (cmd === 'mn') return 'mn\r\n';
    if (cmd === 'ms') return `ms ${key(ctx, i)} ${v.length}${flagText}\r\n${v}\r\n`;
    return `${cmd} ${key(ctx, i)}${flagText}\r\n`;
  }));

const textGarbage = fc
  .uint8Array({ minLength: 1, maxLength: 40 })
  .map((a) => ({ label: 'garbage', render: () => Buffer.concat([Buffer.from(a.map((b) => (b === 0x0a ? 0x20 : b))), Buffer.from('\r\n')]) }));

/** One text or meta command, valid or not (no stats, flush or quit: their replies are masked elsewhere). */
export function textCommand(): fc.Arbitrary<Op> {
  return fc.oneof(
    { arbitrary: storage, weight: 4 },
    { arbitrary: retrieval, weight: 3 },
    { arbitrary: arithmetic, weight: 2 },
    { arbitrary: others, weight: 2 },
    { arbitrary: meta, weight: 4 },
    { arbitrary: textGarbage, weight: 1 },
  );
}

// ---- binary --------------------------------------------------------------------------------

const BINARY_OPS = [
  Opcode.GET, Opcode.GETQ, Opcode.GETK, Opcode.GETKQ, Opcode.SET, Opcode.SETQ, Opcode.ADD, Opcode.ADDQ, Opcode.REPLACE,
  Opcode.APPEND, Opcode.PREPENDQ, Opcode.DELETE, Opcode.DELETEQ, Opcode.INCREMENT, Opcode.INCREMENTQ, Opcode.DECREMENT,
  Opcode.DECREMENTQ, Opcode.TOUCH, Opcode.GAT, Opcode.GATKQ, Opcode.NOOP, 0x1b, 0x55,
] as const;

const binaryPacket = fc
  .record({
    opcode: fc.constantFrom(...BINARY_OPS),
    i: keyIndex,
    v: value,
    delta: fc.constantFrom(0n, 1n, 41n, 18446744073709551615n),
    initial: fc.constantFrom(0n, 7n),
    exp: fc.constantFrom(0, 100, 0xffffffff),
    cas: fc.constantFrom<CasChoice | 'none'>('none', 'none', 'real', 'stale'),
    opaque: fc.integer({ min: 0, max: 0xffff }),
    malformed: fc.option(fc.record({ field: fc.constantFrom('keylen', 'extlen', 'bodylen') as fc.Arbitrary<'keylen' | 'extlen' | 'bodylen'>, to: fc.constantFrom(0, 1, 3, 200) }), { freq: 10 }),
  })
  .map((p): Op => ({
    label: `binary 0x${p.opcode.toString(16)} ${p.i}${p.malformed ? ` ${p.malformed.field}=${p.malformed.to}` : ''}`,
    render(ctx) {
      const loud = new Set<number>([Opcode.SET, Opcode.SETQ, Opcode.ADD, Opcode.ADDQ, Opcode.REPLACE]);
      const arith = new Set<number>([Opcode.INCREMENT, Opcode.INCREMENTQ, Opcode.DECREMENT, Opcode.DECREMENTQ]);
      const touch = new Set<number>([Opcode.TOUCH, Opcode.GAT, Opcode.GATKQ]);
      const append = new Set<number>([Opcode.APPEND, Opcode.PREPENDQ]);
      const extras = loud.has(p.opcode) ? storeExtras(0, p.exp) : arith.has(p.opcode) ? arithmeticExtras(p.delta, p.initial, p.exp) : touch.has(p.opcode) ? expiryExtras(p.exp) : undefined;
      const withValue = loud.has(p.opcode) || append.has(p.opcode);
      const noKey = p.opcode === Opcode.NOOP;
      const cas = p.cas === 'none' ? 0n : BigInt(casText(ctx, p.i, p.cas));
      return binaryRequest({
        opcode: p.opcode,
        key: noKey ? undefined : key(ctx, p.i),
        extras,
        value: withValue ? p.v : undefined,
        opaque: p.opaque,
        cas,
        ...(p.malformed ? { [p.malformed.field]: p.malformed.to } : {}),
      });
    },
  }));

export function binaryCommand(): fc.Arbitrary<Op> {
  return binaryPacket;
}

// ---- raw input for the parser properties ---------------------------------------------------

const PARSER_CTX: RenderContext = { prefix: 'p', cas: () => undefined };

function joined(ops: fc.Arbitrary<Op>, extra: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc
    .array(fc.oneof({ arbitrary: ops.map((op) => op.render(PARSER_CTX)), weight: 4 }, { arbitrary: extra, weight: 1 }), { maxLength: 12 })
    .map((parts) => Buffer.concat(parts));
}

const randomBytes = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));

/** Text input: commands, random bytes, over-long lines and values just over the item size. */
export function textInput(): fc.Arbitrary<Buffer> {
  const long = fc.constantFrom(
    Buffer.alloc(2100, 'a'),
    Buffer.from(`get ${'k '.repeat(1200)}`),
    Buffer.from(`set big 0 0 1100\r\n${'v'.repeat(1100)}\r\n`),
    Buffer.from('set big 0 0 900\r\n'),
  );
  return joined(textCommand(), fc.oneof(randomBytes, long));
}

/** Binary input: packets, malformed ones, random bytes and huge declared bodies. */
export function binaryInput(): fc.Arbitrary<Buffer> {
  const huge = fc.constantFrom(
    binaryRequest({ opcode: Opcode.SET, key: 'h', extras: storeExtras(0, 0), bodylen: 0x7fffffff }),
    binaryRequest({ opcode: Opcode.SET, key: 'h', extras: storeExtras(0, 0), value: 'v'.repeat(1000) }),
    binaryRequest({ opcode: 0x55, bodylen: 5000 }),
    binaryRequest({ opcode: Opcode.GET, key: 'k', keylen: 300 }),
  );
  return joined(binaryCommand(), fc.oneof(randomBytes, huge));
}

/** A line memcached answers with one error: it starts with a byte no command starts with. */
export function garbageLine(): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.constantFrom(...'ABCXYZ019#!~'), fc.uint8Array({ maxLength: 300 }))
    .map(([first, rest]) => Buffer.concat([Buffer.from(first), Buffer.from(rest.map((b) => (b === 0x0a ? 0x20 : b)))]));
}

/** Sorted cut points strictly inside a buffer of `length` bytes. */
export function cutPoints(length: number): fc.Arbitrary<number[]> {
  if (length < 2) return fc.constant([]);
  return fc.uniqueArray(fc.integer({ min: 1, max: length - 1 }), { maxLength: 8 }).map((cuts) => [...cuts].sort((a, b) => a - b));
}

export function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of cuts) {
    if (cut <= from || cut >= bytes.length) continue;
    out.push(bytes.subarray(from, cut));
    from = cut;
  }
  out.push(bytes.subarray(from));
  return out;
}
