import { KEY_MAX_LENGTH, itemTotalSize } from '../../model/item-rules.js';
import { parseI32, parseU32, parseU64 } from '../../model/numbers.js';
import type { ParseEvent } from '../parse-events.js';
import type { MetaStep, Request, StoreMode, StoreRequest } from '../../model/request.js';
import { tokenText, type Token } from '../text/tokenize.js';
import { decodeBase64Key } from './base64.js';
import type { MetaFrame } from './meta-frame.js';

// The meta commands (mg ms md ma mn me) of memcached 1.6.18, parsed decision for decision as
// proto_text.c does it (process_mget_command and its siblings, _meta_flag_preparse): clients
// see every one of those decisions, including which error wins when several apply.

/** What the text parser does with a meta line. */
export type MetaParse =
  /** an answer the parser gives on its own (an error, or mn's MN) */
  | { type: 'reply'; line: string }
  | { type: 'request'; request: Request; frame: MetaFrame }
  /** ms: a data block of `needed` bytes (value and \r\n) follows */
  | { type: 'store'; needed: number; request: Omit<StoreRequest, 'value'>; frame: MetaFrame }
  /** ms refused after its length was read: its data block is skipped, then `then` is answered */
  | { type: 'swallow'; bytes: number; then: ParseEvent };

/** mg, ms, md, ma take at most this many tokens, command and terminal token included */
const MAX_META_TOKENS = 20;
/** opaque tokens, 'O' included */
const MAX_OPAQUE_LENGTH = 32;
const BAD_FORMAT = 'CLIENT_ERROR bad command line format';
const BAD_TOKEN = 'CLIENT_ERROR bad token in command line format';
const OPAQUE_TOO_LONG = 'CLIENT_ERROR opaque token too long';
const INT_MAX = 0x7fffffff;

/** The flags of one meta command line, as _meta_flag_preparse reads them. */
interface MetaFlags {
  /** the key, base64-decoded when b was given */
  key: Buffer;
  base64: boolean;
  touch?: number;
  vivify?: number;
  recache?: number;
  accessInfo: boolean;
  value: boolean;
  noUpdate: boolean;
  quiet: boolean;
  invalidate: boolean;
  clientFlags: number;
  cas?: bigint;
  mode?: string;
  initial: bigint;
  delta: bigint;
}

const reply = (line: string): MetaParse => ({ type: 'reply', line });

/** The flags that take an exptime, and where it goes */
const EXPTIME_FLAGS = { N: 'vivify', T: 'touch', R: 'recache' } as const;

/** Parses a meta command line; `verb` is the letter after the 'm'. */
export function parseMetaCommand(
  line: Buffer, tokens: Token[], verb: string, itemSizeMax: number,
): MetaParse {
  // ntokens in memcached counts a terminal token after the real ones.
  const ntokens = tokens.length + 1;
  switch (verb) {
    case 'n':
      return reply('MN');
    case 'e':
      return parseDebug(line, tokens, ntokens);
    case 'g':
    case 's':
    case 'd':
    case 'a':
      break;
    default:
      return reply('ERROR');
  }
  if (ntokens < 3) return reply('ERROR');
  if (length(tokens[1]!) > KEY_MAX_LENGTH) return reply(BAD_FORMAT);
  if (verb === 's') return parseSet(line, tokens, ntokens, itemSizeMax);
  if (ntokens > MAX_META_TOKENS) {
    return reply(verb === 'g' ? 'CLIENT_ERROR options flags are too long' : 'CLIENT_ERROR options flags too long');
  }
  const flags = preparse(line, tokens, 2, BAD_FORMAT);
  if (typeof flags === 'string') {
    // md and ma name one error whatever the flag did wrong.
    return reply(verb === 'g' ? flags : 'CLIENT_ERROR invalid or duplicate flag');
  }
  if (verb === 'g') return parseGet(line, tokens, flags);
  if (verb === 'd') return parseDelete(line, tokens, flags);
  return parseArithmetic(line, tokens, flags);
}

function length(token: Token): number {
  return token.end - token.start;
}

/**
 * _meta_flag_preparse: each flag is its token's first byte and may appear once. A duplicate or
 * unknown flag ends parsing at once; a bad argument is noted and parsing goes on, so the last
 * bad argument names the error (F, which names none, leaves the message as it was).
 */
function preparse(line: Buffer, tokens: Token[], start: number, defaultError: string): MetaFlags | string {
  const keyToken = tokens[1]!;
  const flags: MetaFlags = {
    key: line.subarray(keyToken.start, keyToken.end),
    base64: false,
    accessInfo: false,
    value: false,
    noUpdate: false,
    quiet: false,
    invalidate: false,
    clientFlags: 0,
    initial: 0n,
    delta: 1n,
  };
  const seen = new Set<number>();
  let error: string | null = null;
  let message = defaultError;
  const fail = (text?: string) => {
    if (text) message = text;
    error = message;
  };
  for (const token of tokens.slice(start)) {
    const flag = line[token.start]!;
    if (flag >= 127 || seen.has(flag)) return 'CLIENT_ERROR duplicate flag';
    seen.add(flag);
    const argStart = token.start + 1;
    switch (String.fromCharCode(flag)) {
      case 'b': {
        const decoded = decodeBase64Key(flags.key);
        if (decoded) flags.key = decoded;
        else fail('CLIENT_ERROR error decoding key');
        flags.base64 = true;
        break;
      }
      case 'N':
      case 'T':
      case 'R': {
        const value = parseI32(line, argStart, token.end);
        if (value === null) fail(BAD_TOKEN);
        else flags[EXPTIME_FLAGS[String.fromCharCode(flag) as 'N' | 'T' | 'R']] = value;
        break;
      }
      case 'l':
      case 'h':
        flags.accessInfo = true;
        break;
      case 'v':
        flags.value = true;
        break;
      case 'u':
        flags.noUpdate = true;
        break;
      case 'q':
        flags.quiet = true;
        break;
      case 'I':
        flags.invalidate = true;
        break;
      // Known, with nothing to note before answering; P and L are hints for proxies.
      case 'O':
      case 'P':
      case 'L':
      case 'k':
      case 's':
      case 't':
      case 'c':
      case 'f':
        break;
      case 'F': {
        const value = parseU32(line, argStart, token.end);
        if (value === null) fail();
        else flags.clientFlags = value;
        break;
      }
      case 'C': {
        const value = parseU64(line, argStart, token.end);
        if (value === null) fail(BAD_TOKEN);
        else flags.cas = value;
        break;
      }
      case 'M':
        if (length(token) !== 2) fail('CLIENT_ERROR incorrect length for M token');
        else flags.mode = String.fromCharCode(line[argStart]!);
        break;
      case 'J': {
        const value = parseU64(line, argStart, token.end);
        if (value === null) fail('CLIENT_ERROR invalid numeric initial value');
        else flags.initial = value;
        break;
      }
      case 'D': {
        const value = parseU64(line, argStart, token.end);
        if (value === null) fail('CLIENT_ERROR invalid numeric delta value');
        else flags.delta = value;
        break;
      }
      default:
        return 'CLIENT_ERROR invalid flag';
    }
  }
  return error ?? flags;
}

/** The reply-shaping part of a meta command: which flags come back, in request order. */
function frameOf(line: Buffer, tokens: Token[], flags: MetaFlags, returned: string): MetaFrame {
  const returns: string[] = [];
  let opaqueTooLong = false;
  for (const token of tokens.slice(2)) {
    const flag = String.fromCharCode(line[token.start]!);
    if (flag === 'O') {
      if (length(token) > MAX_OPAQUE_LENGTH) opaqueTooLong = true;
      returns.push(tokenText(line, token));
    } else if (returned.includes(flag)) {
      returns.push(flag);
    }
  }
  return { returns, key: flags.key, base64: flags.base64, quiet: flags.quiet, value: flags.value, opaqueTooLong };
}

/**
 * The steps mg and ma apply in flag order. memcached checks an opaque token's length only
 * when it reaches it while answering, so what comes before a too long one has happened. The
 * steps after it are kept: memcached creates the item for an N before it walks the flags, so
 * an N after the failing token still creates one (with no exptime); runSteps stops at the fail.
 */
function stepsOf(line: Buffer, tokens: Token[], flags: MetaFlags, recognised: string): MetaStep[] {
  const steps: MetaStep[] = [];
  for (const token of tokens.slice(2)) {
    const flag = String.fromCharCode(line[token.start]!);
    if (!recognised.includes(flag)) continue;
    if (flag === 'T') steps.push({ type: 'touch', exptime: flags.touch! });
    else if (flag === 'N') steps.push({ type: 'vivify', exptime: flags.vivify! });
    else if (flag === 'R') steps.push({ type: 'recache', exptime: flags.recache! });
    else if (flag === 't') steps.push({ type: 'ttl' });
    else if (flag === 'O' && length(token) > MAX_OPAQUE_LENGTH) {
      steps.push({ type: 'fail' });
    }
  }
  return steps;
}

// mg <key> <flags>*\r\n
function parseGet(line: Buffer, tokens: Token[], flags: MetaFlags): MetaParse {
  return {
    type: 'request',
    request: {
      kind: 'metaGet',
      key: Buffer.from(flags.key),
      steps: stepsOf(line, tokens, flags, 'TNRtO'),
      noBump: flags.noUpdate,
      accessInfo: flags.accessInfo,
      noreply: flags.quiet,
    },
    frame: frameOf(line, tokens, flags, 'stcflhk'),
  };
}

// md <key> <flags>*\r\n
function parseDelete(line: Buffer, tokens: Token[], flags: MetaFlags): MetaParse {
  const frame = frameOf(line, tokens, flags, 'k');
  // Checked before the item is looked up, so nothing has happened.
  if (frame.opaqueTooLong) return reply(OPAQUE_TOO_LONG);
  return {
    type: 'request',
    request: {
      kind: 'delete',
      key: Buffer.from(flags.key),
      cas: flags.cas,
      invalidate: flags.invalidate ? { exptime: flags.touch } : undefined,
      noreply: flags.quiet,
    },
    frame,
  };
}

// ma <key> <flags>*\r\n
function parseArithmetic(line: Buffer, tokens: Token[], flags: MetaFlags): MetaParse {
  let incr: boolean;
  switch (flags.mode) {
    case undefined:
    case 'I':
    case '+':
      incr = true;
      break;
    case 'D':
    case '-':
      incr = false;
      break;
    default:
      return reply('CLIENT_ERROR invalid mode for ma M token');
  }
  return {
    type: 'request',
    request: {
      kind: 'arith',
      incr,
      key: Buffer.from(flags.key),
      delta: flags.delta,
      initial: flags.vivify === undefined ? undefined : { value: flags.initial, exptime: 0 },
      // do_add_delta compares only a non-zero CAS.
      cas: flags.cas,
      noreply: flags.quiet,
      steps: stepsOf(line, tokens, flags, 'TNtO'),
    },
    frame: frameOf(line, tokens, flags, 'ctk'),
  };
}

const SET_MODES: Record<string, StoreMode> = { S: 'set', E: 'add', A: 'append', P: 'prepend', R: 'replace' };

// ms <key> <datalen> <flags>*\r\n<data block>\r\n
function parseSet(line: Buffer, tokens: Token[], ntokens: number, itemSizeMax: number): MetaParse {
  // Until the length is known, nothing can be skipped: the data block is read as commands.
  if (ntokens === 3) return reply(BAD_FORMAT);
  if (ntokens > MAX_META_TOKENS) return reply('CLIENT_ERROR options flags too long');
  const lengthToken = tokens[2]!;
  const valueLength = parseI32(line, lengthToken.start, lengthToken.end);
  if (valueLength === null || valueLength < 0 || valueLength > INT_MAX - 2) return reply(BAD_FORMAT);
  const needed = valueLength + 2;
  const refuse = (text: string): MetaParse => ({ type: 'swallow', bytes: needed, then: { type: 'reply', line: text } });

  const flags = preparse(line, tokens, 3, BAD_FORMAT);
  if (typeof flags === 'string') return refuse(flags);
  const frame = frameOf(line, tokens, flags, 'kc');
  let mode: StoreMode = 'set';
  if (flags.mode !== undefined) {
    const named = SET_MODES[flags.mode];
    if (!named) return refuse('CLIENT_ERROR invalid mode for ms M token');
    mode = named;
  }
  if (frame.opaqueTooLong) return refuse(OPAQUE_TOO_LONG);
  // A CAS turns set and replace into cas; add ignores it; append and prepend compare it.
  if (flags.cas !== undefined && (mode === 'set' || mode === 'replace')) mode = 'cas';
  const key = Buffer.from(flags.key);
  if (itemTotalSize(key.length, flags.clientFlags, valueLength) > itemSizeMax) {
    // Errors are never quiet; ms drops the old item whatever its mode, as a failed set does.
    return { type: 'swallow', bytes: needed, then: { type: 'request', request: { kind: 'tooLarge', mode: 'set', key, noreply: false } } };
  }
  return {
    type: 'store',
    needed,
    request: {
      kind: 'store',
      mode,
      key,
      flags: flags.clientFlags,
      exptime: flags.touch ?? 0,
      cas: flags.cas ?? 0n,
      noreply: flags.quiet,
      invalidate: flags.invalidate && mode === 'cas' ? true : undefined,
      binaryKey: flags.base64 || undefined,
    },
    frame,
  };
}

// me <key> [b]\r\n
function parseDebug(line: Buffer, tokens: Token[], ntokens: number): MetaParse {
  if (ntokens < 3 || length(tokens[1]!) > KEY_MAX_LENGTH) return reply(BAD_FORMAT);
  const keyToken = tokens[1]!;
  let key: Buffer | null = line.subarray(keyToken.start, keyToken.end);
  const flag = tokens[2];
  // Only a lone 'b' right after the key means anything; everything else is ignored.
  if (flag && length(flag) === 1 && line[flag.start] === 0x62) key = decodeBase64Key(key);
  if (!key) return reply(BAD_FORMAT);
  return {
    type: 'request',
    request: { kind: 'metaDebug', key: Buffer.from(key) },
    frame: { returns: [], key, base64: false, quiet: false, value: false, opaqueTooLong: false },
  };
}
