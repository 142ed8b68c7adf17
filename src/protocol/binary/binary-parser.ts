import { SaslSession, type SaslAuthenticator, type SaslVerdict } from '../../auth/sasl-session.js';
import { KEY_MAX_LENGTH, itemTotalSize } from '../../model/item-rules.js';
import type { Request, StoreMode } from '../../model/request.js';
import { ByteQueue } from './byte-queue.js';
import {
  HEADER_LENGTH, MAX_SASL_MECH_LENGTH, Opcode, QUIET_TO_LOUD, REQUEST_MAGIC, Status,
} from './opcodes.js';
import { binaryStat } from './binary-stats.js';
import { errorPacket, simplePacket, successPacket } from './packet.js';

/** What a reply to a request needs from the packet that carried it. */
export interface BinaryFrame {
  /** the opcode as received; the reply carries it back */
  opcode: number;
  opaque: number;
  /** quiet opcode: a successful outcome sends nothing */
  quiet: boolean;
  /** GETK/GATK: a reply carries the key */
  withKey: boolean;
  /** TOUCH: a hit carries flags and CAS but no value */
  noValue: boolean;
}

export type BinaryParseEvent =
  | { type: 'request'; request: Request; frame: BinaryFrame }
  | { type: 'reply'; data: Buffer }
  | { type: 'close' };

export type BinaryParseSink = (event: BinaryParseEvent) => void;

export interface BinaryParserOptions {
  /** memcached's item_size_max (-I): header, key and value together */
  itemSizeMax: number;
  /** when set, every command but these needs a successful SASL auth first (memcached -S) */
  sasl?: SaslAuthenticator;
}

interface Header {
  opcode: number;
  keyLength: number;
  extrasLength: number;
  bodyLength: number;
  opaque: number;
  cas: bigint;
}

/** Commands memcached -S serves before authentication (authenticated() in proto_bin.c). */
const ALLOWED_BEFORE_AUTH = new Set<number>([
  Opcode.SASL_LIST_MECHS, Opcode.SASL_AUTH, Opcode.SASL_STEP, Opcode.VERSION,
]);

const STORE_MODES: ReadonlyMap<number, StoreMode> = new Map([
  [Opcode.SET, 'set'], [Opcode.ADD, 'add'], [Opcode.REPLACE, 'replace'],
  [Opcode.APPEND, 'append'], [Opcode.PREPEND, 'prepend'],
]);

const NO_INITIAL = 0xffffffff;

/** SASL_AUTH and SASL_STEP replies; continue asks for the step with an empty challenge. */
const SASL_REPLIES: Record<SaslVerdict, (opcode: number, opaque: number) => Buffer> = {
  authenticated: (opcode, opaque) => successPacket(opcode, opaque, 'Authenticated'),
  failed: (opcode, opaque) => errorPacket(opcode, opaque, Status.AUTH_ERROR),
  continue: (opcode, opaque) => simplePacket(opcode, opaque, Status.AUTH_CONTINUE),
};

/**
 * Incremental parser for memcached's binary protocol. It mirrors try_read_command_binary and
 * dispatch_bin_command of memcached 1.6.18, including their quirks, because clients see each
 * decision as reply bytes: a command is decided as soon as its header, extras and key are in
 * (the value is read afterwards), malformed packets get an error and a hang-up, and unknown
 * opcodes swallow `bodylen` bytes after the key.
 */
export class BinaryParser {
  private readonly input = new ByteQueue();
  private swallowBytes = 0;
  /** emitted once the swallow ends, so the reply follows the discarded value as in memcached */
  private afterSwallow: BinaryParseEvent | null = null;
  private pendingValue: { length: number; complete: (value: Buffer, emit: BinaryParseSink) => void } | null = null;
  private closed = false;
  private readonly sasl: SaslSession | null;

  constructor(private readonly options: BinaryParserOptions) {
    this.sasl = options.sasl ? new SaslSession(options.sasl) : null;
  }

  /**
   * Bytes held between feeds: an incomplete header with its extras and key (at most
   * 24 + 255 + 65535) or an incomplete value (at most itemSizeMax; larger ones are swallowed).
   */
  get buffered(): number {
    return this.input.length;
  }

  feed(chunk: Buffer, emit: BinaryParseSink): void {
    if (this.closed) return;
    this.input.push(chunk);
    while (!this.closed && this.step(emit));
  }

  /** Makes one step of progress; false when more input is needed. */
  private step(emit: BinaryParseSink): boolean {
    if (this.swallowBytes > 0) {
      this.swallowBytes -= this.input.skip(this.swallowBytes);
      if (this.swallowBytes > 0) return false;
      const after = this.afterSwallow;
      this.afterSwallow = null;
      if (after) emit(after);
      return true;
    }
    if (this.pendingValue) {
      const { length, complete } = this.pendingValue;
      if (this.input.length < length) return false;
      this.pendingValue = null;
      complete(this.input.take(length), emit);
      return true;
    }
    if (this.input.length < HEADER_LENGTH) return false;
    const raw = this.input.peek(HEADER_LENGTH);
    if (raw[0] !== REQUEST_MAGIC) {
      this.close(emit);
      return false;
    }
    const header: Header = {
      opcode: raw[1]!,
      keyLength: raw.readUInt16BE(2),
      extrasLength: raw[4]!,
      bodyLength: raw.readUInt32BE(8),
      opaque: raw.readUInt32BE(12),
      cas: raw.readBigUInt64BE(16),
    };
    if (this.input.length < HEADER_LENGTH + header.extrasLength + header.keyLength) return false;
    this.input.skip(HEADER_LENGTH);
    const extras = this.input.take(header.extrasLength);
    const key = this.input.take(header.keyLength);
    this.dispatch(header, extras, key, emit);
    return true;
  }

  private dispatch(h: Header, extras: Buffer, key: Buffer, emit: BinaryParseSink): void {
    const { opcode, keyLength, extrasLength, bodyLength } = h;
    if (keyLength > bodyLength || keyLength + extrasLength > bodyLength) {
      return this.failAndClose(h, Status.UNKNOWN_COMMAND, emit);
    }
    if (this.sasl && !this.sasl.authenticated && !ALLOWED_BEFORE_AUTH.has(opcode)) {
      return this.failAndClose(h, Status.AUTH_ERROR, emit);
    }
    // The protocol allows 16-bit keys; memcached items do not.
    if (keyLength > KEY_MAX_LENGTH) return this.failAndClose(h, Status.EINVAL, emit);

    const loud = QUIET_TO_LOUD.get(opcode) ?? opcode;
    const frame: BinaryFrame = {
      opcode,
      opaque: h.opaque,
      quiet: loud !== opcode,
      withKey: loud === Opcode.GETK || loud === Opcode.GATK,
      noValue: loud === Opcode.TOUCH,
    };
    const request = (r: Request) => emit({ type: 'request', request: r, frame });
    const noBody = extrasLength === 0 && keyLength === 0 && bodyLength === 0;
    const invalid = () => this.failAndClose(h, Status.EINVAL, emit);

    switch (loud) {
      case Opcode.VERSION:
        return noBody ? request({ kind: 'version' }) : invalid();
      case Opcode.NOOP:
        return noBody ? request({ kind: 'noop' }) : invalid();
      case Opcode.QUIT:
        return noBody ? request({ kind: 'quit' }) : invalid();
      case Opcode.FLUSH:
        if (keyLength !== 0 || bodyLength !== extrasLength || (extrasLength !== 0 && extrasLength !== 4)) return invalid();
        return request({ kind: 'flush', delay: extrasLength === 4 ? extras.readUInt32BE(0) : 0, noreply: frame.quiet });
      case Opcode.SET:
      case Opcode.ADD:
      case Opcode.REPLACE:
        if (extrasLength !== 8 || keyLength === 0 || bodyLength < keyLength + 8) return invalid();
        return this.readValue(h, frame, key, extras.readUInt32BE(0), extras.readUInt32BE(4), emit);
      case Opcode.APPEND:
      case Opcode.PREPEND:
        if (keyLength === 0 || extrasLength !== 0) return invalid();
        return this.readValue(h, frame, key, 0, 0, emit);
      case Opcode.GET:
      case Opcode.GETK:
        if (extrasLength !== 0 || bodyLength !== keyLength || keyLength === 0) return invalid();
        return request({ kind: 'get', keys: [key], withCas: true });
      case Opcode.TOUCH:
      case Opcode.GAT:
      case Opcode.GATK:
        // memcached does not check bodylen here: bytes past the key are read as the next header.
        if (extrasLength !== 4 || keyLength === 0) return invalid();
        return request({ kind: 'get', keys: [key], withCas: true, touchExptime: extras.readUInt32BE(0) });
      case Opcode.DELETE:
        if (keyLength === 0 || extrasLength !== 0 || bodyLength !== keyLength) return invalid();
        return request({ kind: 'delete', key, cas: h.cas === 0n ? undefined : h.cas, noreply: frame.quiet });
      case Opcode.INCREMENT:
      case Opcode.DECREMENT: {
        if (keyLength === 0 || extrasLength !== 20 || bodyLength !== keyLength + 20) return invalid();
        const exptime = extras.readUInt32BE(16);
        return request({
          kind: 'arith',
          incr: loud === Opcode.INCREMENT,
          key,
          delta: extras.readBigUInt64BE(0),
          initial: exptime === NO_INITIAL ? undefined : { value: extras.readBigUInt64BE(8), exptime },
          cas: h.cas,
          noreply: frame.quiet,
        });
      }
      case Opcode.STAT:
        // Like TOUCH, bodylen past the key is not consumed.
        if (extrasLength !== 0) return invalid();
        return emit(binaryStat(key.toString('latin1'), frame));
      case Opcode.SASL_LIST_MECHS:
        if (!noBody) return invalid();
        return this.listMechanisms(h, emit);
      case Opcode.SASL_AUTH:
      case Opcode.SASL_STEP:
        if (extrasLength !== 0 || keyLength === 0) return invalid();
        return this.saslExchange(h, key, emit);
      default:
        // memcached swallows bodylen bytes counted from after the key, not bodylen minus
        // what it already read; a client sending extras or a key here loses that many bytes
        // of its next packet, as with memcached.
        return this.failAndSwallow(h, Status.UNKNOWN_COMMAND, bodyLength, emit);
    }
  }

  private readValue(h: Header, frame: BinaryFrame, key: Buffer, flags: number, exptime: number, emit: BinaryParseSink): void {
    const loud = QUIET_TO_LOUD.get(h.opcode) ?? h.opcode;
    const named = STORE_MODES.get(loud)!;
    const valueLength = h.bodyLength - h.keyLength - h.extrasLength;
    if (itemTotalSize(key.length, flags, valueLength) > this.options.itemSizeMax) {
      // Answered after the value is swallowed; the handler also drops the old item on SET.
      this.swallowBytes = valueLength;
      this.afterSwallow = { type: 'request', request: { kind: 'tooLarge', mode: named, key, noreply: false }, frame: { ...frame, quiet: false } };
      return;
    }
    // A CAS in the header turns set/add/replace into a compare-and-swap (NREAD_CAS); append and
    // prepend keep their mode and check the CAS themselves.
    const mode: StoreMode = h.cas !== 0n && (named === 'set' || named === 'add' || named === 'replace') ? 'cas' : named;
    this.pendingValue = {
      length: valueLength,
      complete: (value, sink) => sink({
        type: 'request',
        request: { kind: 'store', mode, key, flags, exptime, value, cas: h.cas, noreply: frame.quiet },
        frame,
      }),
    };
  }

  private listMechanisms(h: Header, emit: BinaryParseSink): void {
    if (!this.sasl) return this.failAndSwallow(h, Status.UNKNOWN_COMMAND, h.bodyLength - h.keyLength, emit);
    emit({ type: 'reply', data: successPacket(h.opcode, h.opaque, this.sasl.listMechanisms()) });
  }

  private saslExchange(h: Header, key: Buffer, emit: BinaryParseSink): void {
    const sasl = this.sasl;
    const valueLength = h.bodyLength - h.keyLength;
    if (!sasl) return this.failAndSwallow(h, Status.UNKNOWN_COMMAND, valueLength, emit);
    if (h.keyLength > MAX_SASL_MECH_LENGTH) return this.failAndSwallow(h, Status.EINVAL, valueLength, emit);
    if (itemTotalSize(h.keyLength, 0, valueLength) > this.options.itemSizeMax) {
      return this.failAndSwallow(h, Status.ENOMEM, valueLength, emit);
    }
    this.pendingValue = {
      length: valueLength,
      complete: (response, sink) => {
        const verdict = h.opcode === Opcode.SASL_AUTH ? sasl.start(key.toString('latin1'), response) : sasl.step(response);
        sink({ type: 'reply', data: SASL_REPLIES[verdict](h.opcode, h.opaque) });
      },
    };
  }

  private failAndClose(h: Header, status: number, emit: BinaryParseSink): void {
    emit({ type: 'reply', data: errorPacket(h.opcode, h.opaque, status) });
    this.close(emit);
  }

  /** memcached sends such an error only once the body it discards has been read. */
  private failAndSwallow(h: Header, status: number, bytes: number, emit: BinaryParseSink): void {
    const reply: BinaryParseEvent = { type: 'reply', data: errorPacket(h.opcode, h.opaque, status) };
    if (bytes <= 0) return emit(reply);
    this.swallowBytes = bytes;
    this.afterSwallow = reply;
  }

  private close(emit: BinaryParseSink): void {
    this.closed = true;
    this.input.clear();
    emit({ type: 'close' });
  }
}
