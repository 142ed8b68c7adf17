import { MAX_LINE_WITHOUT_NEWLINE, MAX_MULTIGET_LINE } from '../limits.js';
import { KEY_MAX_LENGTH, itemTotalSize } from '../../model/item-rules.js';
import type { MetaFrame } from '../meta/meta-frame.js';
import { parseMetaCommand, type MetaParse } from '../meta/meta-parser.js';
import { parseI32, parseU32, parseU64 } from '../../model/numbers.js';
import type { ParseEvent, ParseSink } from '../parse-events.js';
import type { StoreMode, StoreRequest } from '../../model/request.js';
import { tokenize, tokenText, type Token } from './tokenize.js';

export interface TextParserOptions {
  /** memcached's item_size_max (-I): header, key and value together. */
  itemSizeMax: number;
}

/** A storage command (text or ms) whose data block is still arriving. */
interface PendingStore {
  request: Omit<StoreRequest, 'value'>;
  /** set for ms, which answers a bad data chunk even when quiet */
  meta?: MetaFrame;
  /** value bytes plus the trailing \r\n */
  needed: number;
}

const EMPTY = Buffer.alloc(0);
const NEWLINE = 0x0a;
const CR = 0x0d;
const BAD_FORMAT = 'CLIENT_ERROR bad command line format';
const BAD_EXPTIME = 'CLIENT_ERROR invalid exptime argument';

/**
 * Incremental parser for memcached's text protocol (and the line framing meta shares).
 * It mirrors proto_text.c's process_command_ascii decision for decision, because clients see
 * every one of those decisions as reply bytes. Values are handed out as views of the received
 * chunks: buffers are never written after they are received, so the views stay valid.
 */
export class TextParser {
  private buf: Buffer = EMPTY;
  /** chunks held back while a large value is incomplete, so we copy it once, not per chunk */
  private parked: Buffer[] = [];
  private parkedLength = 0;
  private store: PendingStore | null = null;
  private swallowBytes = 0;
  /** memcached answers a too-large store only once its whole value has been swallowed */
  private afterSwallow: ParseEvent | null = null;
  private closed = false;

  constructor(private readonly options: TextParserOptions) {}

  /**
   * Bytes held between feeds: an incomplete line (at most MAX_LINE_WITHOUT_NEWLINE, or
   * MAX_MULTIGET_LINE for a get line) or an incomplete value (at most itemSizeMax + 2; larger
   * ones are swallowed, not held).
   */
  get buffered(): number {
    return this.buf.length + this.parkedLength;
  }

  feed(chunk: Buffer, emit: ParseSink): void {
    if (this.closed || chunk.length === 0) return;
    if (this.swallowBytes > 0 && this.buf.length === 0) chunk = this.swallow(chunk, emit);
    if (chunk.length === 0) return;
    // While a value or a line is incomplete, chunks are parked and joined once when it
    // completes, so a large value or a long multi-get costs one copy, not one per chunk.
    const pending = this.buf.length + this.parkedLength;
    if (pending > 0) {
      const incomplete = this.store
        ? pending + chunk.length < this.store.needed
        : chunk.indexOf(NEWLINE) < 0;
      if (incomplete) {
        this.parked.push(chunk);
        this.parkedLength += chunk.length;
        if (!this.store) this.checkIncompleteLine(emit);
        return;
      }
    }
    this.buf = pending === 0 ? chunk : Buffer.concat([this.buf, ...this.parked, chunk]);
    this.parked = [];
    this.parkedLength = 0;
    this.drain(emit);
  }

  /** A line without a newline may only keep growing when it is a multi-get, and not forever. */
  private checkIncompleteLine(emit: ParseSink): void {
    const length = this.buf.length + this.parkedLength;
    if (length <= MAX_LINE_WITHOUT_NEWLINE) return;
    const head = Buffer.concat([this.buf, ...this.parked.slice(0, 4)]).subarray(0, 110);
    if (length > MAX_MULTIGET_LINE || !this.mayGrow(head)) {
      this.closed = true;
      emit({ type: 'close' });
    }
  }

  private swallow(chunk: Buffer, emit: ParseSink): Buffer {
    const n = Math.min(this.swallowBytes, chunk.length);
    this.swallowBytes -= n;
    if (this.swallowBytes === 0 && this.afterSwallow) {
      emit(this.afterSwallow);
      this.afterSwallow = null;
    }
    return chunk.subarray(n);
  }

  private drain(emit: ParseSink): void {
    while (!this.closed && this.buf.length > 0) {
      if (this.swallowBytes > 0) {
        this.buf = this.swallow(this.buf, emit);
        continue;
      }
      if (this.store) {
        if (this.buf.length < this.store.needed) return;
        this.finishStore(this.store, emit);
        continue;
      }
      const newline = this.buf.indexOf(NEWLINE);
      if (newline < 0) {
        this.checkIncompleteLine(emit);
        return;
      }
      // memcached strips a \r before the \n only when the line has at least one other byte.
      const lineEnd = newline > 1 && this.buf[newline - 1] === CR ? newline - 1 : newline;
      const line = this.buf.subarray(0, lineEnd);
      this.buf = this.buf.subarray(newline + 1);
      this.processLine(line, emit);
    }
  }

  /** A long line without a newline is only allowed to keep growing when it is a multi-get. */
  private mayGrow(buf: Buffer): boolean {
    let i = 0;
    while (i < buf.length && buf[i] === 0x20) i++;
    if (i > 100) return false;
    const head = buf.toString('latin1', i, i + 5);
    return head.startsWith('get ') || head === 'gets ';
  }

  private finishStore(store: PendingStore, emit: ParseSink): void {
    const valueLength = store.needed - 2;
    const terminated = this.buf[valueLength] === CR && this.buf[valueLength + 1] === NEWLINE;
    const value = this.buf.subarray(0, valueLength);
    this.buf = this.buf.subarray(store.needed);
    this.store = null;
    if (!terminated) {
      // No resync: memcached parses whatever follows the block as the next command line.
      if (!store.request.noreply || store.meta) emit({ type: 'reply', line: 'CLIENT_ERROR bad data chunk' });
      return;
    }
    emit({ type: 'request', request: { ...store.request, value }, meta: store.meta });
  }

  private processLine(line: Buffer, emit: ParseSink): void {
    // memcached measures the line with strlen(), so nothing after a NUL byte exists for it.
    const nul = line.indexOf(0);
    if (nul >= 0) line = line.subarray(0, nul);
    const { list: tokens, rest } = tokenize(line);
    // ntokens in memcached counts a terminal token after the real ones.
    const ntokens = tokens.length + 1;
    const reply = (text: string) => emit({ type: 'reply', line: text });
    if (tokens.length === 0 || tokens[0]!.end - tokens[0]!.start < 2) return reply('ERROR');

    const command = tokenText(line, tokens[0]!);
    const want = (ok: boolean) => {
      if (!ok) reply('ERROR');
      return ok;
    };

    // Meta commands are all two letters long and share this framing.
    if (command.length === 2 && command[0] === 'm') {
      return this.processMeta(parseMetaCommand(line, tokens, command[1]!, this.options.itemSizeMax), emit);
    }

    switch (command) {
      case 'get':
      case 'bget':
      case 'gets':
      case 'gat':
      case 'gats':
        if (want(ntokens >= 3)) this.parseGet(line, tokens, rest, command, emit);
        return;
      case 'set':
      case 'add':
      case 'append':
      case 'replace':
      case 'prepend':
        if (want(ntokens === 6 || ntokens === 7)) this.parseStore(line, tokens, command, emit);
        return;
      case 'cas':
        if (want(ntokens === 7 || ntokens === 8)) this.parseStore(line, tokens, 'cas', emit);
        return;
      case 'incr':
      case 'decr':
        if (want(ntokens === 4 || ntokens === 5)) this.parseArithmetic(line, tokens, command === 'incr', emit);
        return;
      case 'delete':
        if (want(ntokens >= 3 && ntokens <= 5)) this.parseDelete(line, tokens, emit);
        return;
      case 'touch':
        if (want(ntokens === 4 || ntokens === 5)) this.parseTouch(line, tokens, emit);
        return;
      case 'flush_all':
        if (want(ntokens >= 2 && ntokens <= 4)) this.parseFlushAll(line, tokens, emit);
        return;
      case 'verbosity':
        if (want(ntokens === 3 || ntokens === 4)) this.parseVerbosity(line, tokens, emit);
        return;
      case 'cache_memlimit':
        if (want(ntokens === 3 || ntokens === 4)) this.parseMemlimit(line, tokens, emit);
        return;
      case 'shutdown':
        // A shared durable gateway is never stopped by a client: memcached without -A says so.
        return reply('ERROR: shutdown not enabled');
      case 'version':
        return emit({ type: 'request', request: { kind: 'version' } });
      case 'quit':
        // Nothing after quit is read, let alone run.
        this.closed = true;
        return emit({ type: 'request', request: { kind: 'quit' } });
      case 'stats':
        return emit({
          type: 'request',
          request: { kind: 'stats', group: tokens.slice(1).map((t) => tokenText(line, t)).join(' ') },
        });
      default: {
        // A browser or health checker speaking HTTP to us: hang up like memcached does. Its
        // check sits in the last branch of its dispatch, which commands starting with these
        // letters never reach.
        const last = tokens[tokens.length - 1]!;
        if (!'gsacidt'.includes(command[0]!) && line.toString('latin1', last.start, last.start + 5) === 'HTTP/') {
          this.closed = true;
          return emit({ type: 'close' });
        }
        return reply('ERROR');
      }
    }
  }

  private processMeta(parsed: MetaParse, emit: ParseSink): void {
    switch (parsed.type) {
      case 'reply':
        return emit({ type: 'reply', line: parsed.line });
      case 'request':
        return emit({ type: 'request', request: parsed.request, meta: parsed.frame });
      case 'store':
        this.store = { request: parsed.request, meta: parsed.frame, needed: parsed.needed };
        return;
      case 'swallow':
        // The data block still arrives; memcached answers once it has skipped it.
        this.swallowBytes = parsed.bytes;
        this.afterSwallow = parsed.then;
        return;
    }
  }

  /** set_noreply_maybe: the last real token is exactly "noreply". */
  private noreply(line: Buffer, tokens: Token[]): boolean {
    return tokenText(line, tokens[tokens.length - 1]!) === 'noreply';
  }

  private key(line: Buffer, token: Token): Buffer | null {
    if (token.end - token.start > KEY_MAX_LENGTH) return null;
    // Keys outlive this chunk inside queued requests; copying 250 bytes at most is cheap.
    return Buffer.from(line.subarray(token.start, token.end));
  }

  // get|gets|bget <key>*\r\n      gat|gats <exptime> <key>*\r\n
  private parseGet(line: Buffer, tokens: Token[], rest: number, command: string, emit: ParseSink): void {
    const touch = command === 'gat' || command === 'gats';
    let exptime: number | undefined;
    let keyTokens = tokens.slice(1);
    if (touch) {
      const t = tokens[1]!;
      const parsed = parseI32(line, t.start, t.end);
      if (parsed === null) return emit({ type: 'reply', line: BAD_EXPTIME });
      exptime = parsed;
      keyTokens = tokens.slice(2);
    }
    // Lines with more than MAX_TOKENS tokens are read on in further rounds, as memcached does.
    let from = rest;
    while (from >= 0) {
      const more = tokenize(line, from);
      for (const token of more.list) keyTokens.push(token);
      from = more.rest;
    }
    const keys: Buffer[] = [];
    let failLine: string | undefined;
    for (const t of keyTokens) {
      const key = this.key(line, t);
      if (!key) {
        failLine = BAD_FORMAT;
        break;
      }
      keys.push(key);
    }
    if (failLine !== undefined && keys.length === 0) return emit({ type: 'reply', line: failLine });
    emit({
      type: 'request',
      request: { kind: 'get', keys, withCas: command === 'gets' || command === 'gats', touchExptime: exptime, failLine },
    });
  }

  // <command> <key> <flags> <exptime> <bytes> [noreply]\r\n
  // cas <key> <flags> <exptime> <bytes> <cas unique> [noreply]\r\n
  private parseStore(line: Buffer, tokens: Token[], mode: StoreMode, emit: ParseSink): void {
    const noreply = this.noreply(line, tokens);
    const fail = (text: string) => {
      if (!noreply) emit({ type: 'reply', line: text });
    };
    const key = this.key(line, tokens[1]!);
    if (!key) return fail(BAD_FORMAT);
    const [f, e, b] = [tokens[2]!, tokens[3]!, tokens[4]!];
    const flags = parseU32(line, f.start, f.end);
    const exptime = parseI32(line, e.start, e.end);
    const length = parseI32(line, b.start, b.end);
    if (flags === null || exptime === null || length === null) return fail(BAD_FORMAT);
    let cas = 0n;
    if (mode === 'cas') {
      const c = tokens[5]!;
      const parsed = parseU64(line, c.start, c.end);
      if (parsed === null) return fail(BAD_FORMAT);
      cas = parsed;
    }
    if (length < 0 || length > 0x7fffffff - 2) return fail(BAD_FORMAT);
    const needed = length + 2;
    if (itemTotalSize(key.length, flags, length) > this.options.itemSizeMax) {
      // The value still arrives; swallow it so the stream stays in sync.
      this.swallowBytes = needed;
      this.afterSwallow = { type: 'request', request: { kind: 'tooLarge', mode, key, noreply } };
      return;
    }
    this.store = { request: { kind: 'store', mode, key, flags, exptime, cas, noreply }, needed };
  }

  // incr|decr <key> <value> [noreply]\r\n
  private parseArithmetic(line: Buffer, tokens: Token[], incr: boolean, emit: ParseSink): void {
    const noreply = this.noreply(line, tokens);
    const fail = (text: string) => {
      if (!noreply) emit({ type: 'reply', line: text });
    };
    const key = this.key(line, tokens[1]!);
    if (!key) return fail(BAD_FORMAT);
    const d = tokens[2]!;
    const delta = parseU64(line, d.start, d.end);
    if (delta === null) return fail('CLIENT_ERROR invalid numeric delta argument');
    emit({ type: 'request', request: { kind: 'arith', incr, key, delta, noreply } });
  }

  // delete <key> [0] [noreply]\r\n
  private parseDelete(line: Buffer, tokens: Token[], emit: ParseSink): void {
    let noreply = false;
    if (tokens.length > 2) {
      const holdIsZero = tokenText(line, tokens[2]!) === '0';
      noreply = this.noreply(line, tokens);
      const valid = (tokens.length === 3 && (holdIsZero || noreply))
        || (tokens.length === 4 && holdIsZero && noreply);
      if (!valid) {
        if (!noreply) {
          emit({ type: 'reply', line: 'CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]' });
        }
        return;
      }
    }
    const key = this.key(line, tokens[1]!);
    if (!key) {
      if (!noreply) emit({ type: 'reply', line: BAD_FORMAT });
      return;
    }
    emit({ type: 'request', request: { kind: 'delete', key, noreply } });
  }

  // touch <key> <exptime> [noreply]\r\n
  private parseTouch(line: Buffer, tokens: Token[], emit: ParseSink): void {
    const noreply = this.noreply(line, tokens);
    const fail = (text: string) => {
      if (!noreply) emit({ type: 'reply', line: text });
    };
    const key = this.key(line, tokens[1]!);
    if (!key) return fail(BAD_FORMAT);
    const e = tokens[2]!;
    const exptime = parseI32(line, e.start, e.end);
    if (exptime === null) return fail(BAD_EXPTIME);
    emit({ type: 'request', request: { kind: 'touch', key, exptime, noreply } });
  }

  // flush_all [delay] [noreply]\r\n
  private parseFlushAll(line: Buffer, tokens: Token[], emit: ParseSink): void {
    const noreply = this.noreply(line, tokens);
    let delay: number | null = 0;
    if (tokens.length !== (noreply ? 2 : 1)) {
      const t = tokens[1]!;
      const parsed = parseI32(line, t.start, t.end);
      // An unparsable delay is judged by the handler: memcached counts the command and checks
      // that flush_all is enabled before it looks at the argument.
      delay = parsed;
    }
    emit({ type: 'request', request: { kind: 'flush', delay, noreply } });
  }

  // verbosity <level> [noreply]\r\n
  private parseVerbosity(line: Buffer, tokens: Token[], emit: ParseSink): void {
    const noreply = this.noreply(line, tokens);
    const t = tokens[1]!;
    const level = parseU32(line, t.start, t.end);
    if (level === null) {
      if (!noreply) emit({ type: 'reply', line: BAD_FORMAT });
      return;
    }
    emit({ type: 'request', request: { kind: 'verbosity', level, noreply } });
  }

  // cache_memlimit <megabytes> [noreply]\r\n: answered as memcached answers it, and a no-op,
  // since items live in a table and nothing is evicted (docs/observability.md).
  private parseMemlimit(line: Buffer, tokens: Token[], emit: ParseSink): void {
    const noreply = this.noreply(line, tokens);
    const t = tokens[1]!;
    const megabytes = parseU32(line, t.start, t.end);
    let answer = 'OK';
    if (megabytes === null) answer = 'ERROR';
    else if (megabytes < 8) answer = 'MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m';
    else if (megabytes > 1_000_000_000) answer = 'MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes';
    if (!noreply) emit({ type: 'reply', line: answer });
  }
}
