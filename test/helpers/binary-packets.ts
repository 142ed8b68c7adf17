/**
 * memcached binary protocol packets for byte-exact tests: a request builder
 * (with overrides for deliberately malformed headers) and a response splitter
 * and renderer that turns reply bytes into one readable line per packet.
 *
 * Header (24 bytes, big endian):
 *   magic(1) opcode(1) keylen(2) extlen(1) datatype(1) vbucket|status(2)
 *   bodylen(4) opaque(4) cas(8)
 * followed by extras, key and value (bodylen = extlen + keylen + value).
 */
import { HEADER_LENGTH, Opcode, REQUEST_MAGIC, RESPONSE_MAGIC, Status } from '../../src/protocol/binary/opcodes.js';
import { toBuffer, type ExchangeResult, type RawConnection, type SendOptions } from './raw-connection.js';
import { render } from './reply-masking.js';

const OPCODE_NAMES = new Map<number, string>(Object.entries(Opcode).map(([name, code]) => [code, name]));
const STATUS_NAMES = new Map<number, string>(Object.entries(Status).map(([name, code]) => [code, name]));

export type Bytes = string | Buffer;

/** Strings are latin1, so '\xff' is the single byte 0xff. */
function bytes(b: Bytes | undefined): Buffer {
  if (b === undefined) return Buffer.alloc(0);
  return typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
}

export interface RequestSpec {
  opcode: number;
  key?: Bytes;
  extras?: Bytes;
  value?: Bytes;
  opaque?: number;
  cas?: bigint;
  datatype?: number;
  vbucket?: number;
  /** Header overrides for malformed packets; the body bytes are sent as given. */
  magic?: number;
  keylen?: number;
  extlen?: number;
  bodylen?: number;
}

/** One request packet: header + extras + key + value. */
export function binaryRequest(spec: RequestSpec): Buffer {
  const extras = bytes(spec.extras);
  const key = bytes(spec.key);
  const value = bytes(spec.value);
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt8(spec.magic ?? REQUEST_MAGIC, 0);
  header.writeUInt8(spec.opcode, 1);
  header.writeUInt16BE(spec.keylen ?? key.length, 2);
  header.writeUInt8(spec.extlen ?? extras.length, 4);
  header.writeUInt8(spec.datatype ?? 0, 5);
  header.writeUInt16BE(spec.vbucket ?? 0, 6);
  header.writeUInt32BE(spec.bodylen ?? extras.length + key.length + value.length, 8);
  header.writeUInt32BE((spec.opaque ?? 0) >>> 0, 12);
  header.writeBigUInt64BE(spec.cas ?? 0n, 16);
  return Buffer.concat([header, extras, key, value]);
}

/** One response packet, laid out as a request with the response magic and the status where the vbucket goes. */
export function binaryResponse(spec: RequestSpec & { status?: number }): Buffer {
  return binaryRequest({ ...spec, magic: RESPONSE_MAGIC, vbucket: spec.status ?? Status.SUCCESS });
}

/** Extras of set/add/replace: flags(4) exptime(4). */
export function storeExtras(flags: number, exptime: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(flags >>> 0, 0);
  b.writeUInt32BE(exptime >>> 0, 4);
  return b;
}

/** Extras of incr/decr: delta(8) initial(8) exptime(4). */
export function arithmeticExtras(delta: bigint, initial: bigint, exptime: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeBigUInt64BE(delta, 0);
  b.writeBigUInt64BE(initial, 8);
  b.writeUInt32BE(exptime >>> 0, 16);
  return b;
}

/** Extras of touch/gat/flush: exptime(4). */
export function expiryExtras(exptime: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(exptime >>> 0, 0);
  return b;
}

export interface Packet {
  magic: number;
  opcode: number;
  keylen: number;
  extlen: number;
  datatype: number;
  /** status in responses, vbucket in requests */
  status: number;
  bodylen: number;
  opaque: number;
  cas: bigint;
  extras: Buffer;
  key: Buffer;
  value: Buffer;
}

function readHeader(buf: Buffer, at: number): Omit<Packet, 'extras' | 'key' | 'value'> {
  return {
    magic: buf.readUInt8(at),
    opcode: buf.readUInt8(at + 1),
    keylen: buf.readUInt16BE(at + 2),
    extlen: buf.readUInt8(at + 4),
    datatype: buf.readUInt8(at + 5),
    status: buf.readUInt16BE(at + 6),
    bodylen: buf.readUInt32BE(at + 8),
    opaque: buf.readUInt32BE(at + 12),
    cas: buf.readBigUInt64BE(at + 16),
  };
}

/**
 * Splits `buf` into complete packets with the given magic. Stops at the first
 * incomplete packet, a packet with another magic, or one whose extlen+keylen
 * exceed its bodylen; everything from there on is `rest`.
 */
export function splitPackets(buf: Buffer, magic = RESPONSE_MAGIC): { packets: Packet[]; rest: Buffer } {
  const packets: Packet[] = [];
  let at = 0;
  while (buf.length - at >= HEADER_LENGTH) {
    const h = readHeader(buf, at);
    if (h.magic !== magic || h.extlen + h.keylen > h.bodylen) break;
    const end = at + HEADER_LENGTH + h.bodylen;
    if (end > buf.length) break;
    const body = at + HEADER_LENGTH;
    packets.push({
      ...h,
      extras: buf.subarray(body, body + h.extlen),
      key: buf.subarray(body + h.extlen, body + h.extlen + h.keylen),
      value: buf.subarray(body + h.extlen + h.keylen, end),
    });
    at = end;
  }
  return { packets, rest: buf.subarray(at) };
}

/**
 * Walks the response packets in `buf` and returns the first one for which
 * `match` holds with its offsets, or undefined if there is none (yet).
 */
export function findResponse(buf: Buffer, match: (p: Packet) => boolean): { packet: Packet; start: number; end: number } | undefined {
  let at = 0;
  while (buf.length - at >= HEADER_LENGTH) {
    const h = readHeader(buf, at);
    if (h.magic !== RESPONSE_MAGIC) return undefined;
    const end = at + HEADER_LENGTH + h.bodylen;
    if (end > buf.length) return undefined;
    const body = at + HEADER_LENGTH;
    const keyAt = Math.min(end, body + h.extlen);
    const valueAt = Math.min(end, keyAt + h.keylen);
    const packet: Packet = { ...h, extras: buf.subarray(body, keyAt), key: buf.subarray(keyAt, valueAt), value: buf.subarray(valueAt, end) };
    if (match(packet)) return { packet, start: at, end };
    at = end;
  }
  return undefined;
}

const hex = (n: number, width: number): string => `0x${n.toString(16).padStart(width, '0')}`;

function opcodeName(op: number): string {
  return `${OPCODE_NAMES.get(op) ?? 'op'}(${hex(op, 2)})`;
}

function statusName(status: number): string {
  return `${hex(status, 4)}${STATUS_NAMES.has(status) ? ` ${STATUS_NAMES.get(status)!}` : ''}`;
}

/** cas rendered as "0" or "<nonzero>": the values differ between servers, zero-ness must not. */
export function maskCas(cas: bigint): string {
  return cas === 0n ? '0' : '<nonzero>';
}

export interface RenderOptions {
  /** Replace the body of successful Version replies by `<version>` (default true). */
  maskVersion?: boolean;
  /**
   * Collapse a well-formed run of successful Stat packets (entries with a key,
   * then an empty terminator, all with the same opaque and cas 0) into one
   * line that does not depend on the entries (default true).
   */
  collapseStats?: boolean;
  /**
   * With collapseStats: also render the values of these stats (`name=value`, or
   * `name=<absent>`), in this order, for counters whose values must match
   * (not for an empty run such as the reply to `reset`).
   */
  statKeys?: readonly string[];
}

/** One response packet as text; cas masked, version body masked if asked. */
export function renderPacket(p: Packet, opts: RenderOptions = {}): string {
  const maskVersion = opts.maskVersion ?? true;
  const isVersion = maskVersion && p.opcode === Opcode.VERSION && p.status === Status.SUCCESS && p.keylen === 0 && p.extlen === 0;
  const parts = [
    ...(p.magic !== RESPONSE_MAGIC ? [`magic=${hex(p.magic, 2)}`] : []),
    opcodeName(p.opcode),
    `status=${statusName(p.status)}`,
    ...(p.datatype !== 0 ? [`datatype=${hex(p.datatype, 2)}`] : []),
    `keylen=${p.keylen}`,
    `extlen=${p.extlen}`,
    `bodylen=${isVersion ? '<n>' : p.bodylen}`,
    `opaque=${hex(p.opaque, 8)}`,
    `cas=${maskCas(p.cas)}`,
  ];
  if (p.keylen > 0) parts.push(`key="${render(p.key)}"`);
  if (p.extlen > 0) parts.push(`extras=${p.extras.toString('hex')}`);
  if (isVersion) parts.push('value=<version>');
  else if (p.value.length > 0) parts.push(`value="${render(p.value)}"`);
  return parts.join(' ');
}

function isStatEntry(p: Packet): boolean {
  return p.opcode === Opcode.STAT && p.status === Status.SUCCESS && p.extlen === 0 && p.datatype === 0 && p.cas === 0n && p.keylen > 0;
}

function isStatTerminator(p: Packet): boolean {
  return p.opcode === Opcode.STAT && p.status === Status.SUCCESS && p.extlen === 0 && p.datatype === 0 && p.cas === 0n && p.bodylen === 0;
}

/** Rendered leftover bytes that do not form a complete response packet. */
export function renderRest(rest: Buffer): string {
  return `partial/unparsed ${rest.length} bytes: ${rest.toString('hex')} "${render(rest)}"`;
}

/**
 * Renders reply bytes as one line per packet (see renderPacket), with stats
 * runs collapsed to `STATS opaque=<opaque> (entries masked)` and trailing
 * bytes that do not form a response packet rendered as hex.
 */
export function renderResponses(buf: Buffer, opts: RenderOptions = {}): string[] {
  const collapseStats = opts.collapseStats ?? true;
  const { packets, rest } = splitPackets(buf, RESPONSE_MAGIC);
  const lines: string[] = [];
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!;
    if (collapseStats && (isStatEntry(p) || isStatTerminator(p))) {
      let j = i;
      while (j < packets.length && isStatEntry(packets[j]!) && packets[j]!.opaque === p.opaque) j++;
      const end = packets[j];
      if (end !== undefined && isStatTerminator(end) && end.opaque === p.opaque) {
        const values = new Map(packets.slice(i, j).map((e) => [e.key.toString('latin1'), e.value.toString('latin1')]));
        const shown = values.size === 0 ? [] : (opts.statKeys ?? []).map((name) => `${name}=${values.get(name) ?? '<absent>'}`);
        lines.push([`STATS opaque=${hex(p.opaque, 8)} (entries masked)`, ...shown].join(' '));
        i = j;
        continue;
      }
    }
    lines.push(renderPacket(p, opts));
  }
  if (rest.length > 0) lines.push(renderRest(rest));
  return lines;
}

/** Short description of request bytes for failure messages (requests split like responses). */
export function describeRequests(buf: Buffer, max = 400): string {
  const { packets, rest } = splitPackets(buf, REQUEST_MAGIC);
  const parts = packets.map((p) => {
    const fields = [opcodeName(p.opcode)];
    if (p.keylen > 0) fields.push(`key="${render(p.key.subarray(0, 40))}${p.keylen > 40 ? '…' : ''}"`);
    if (p.extlen > 0) fields.push(`extras=${p.extras.toString('hex')}`);
    if (p.value.length > 0) fields.push(`value(${p.value.length})="${render(p.value.subarray(0, 40))}${p.value.length > 40 ? '…' : ''}"`);
    if (p.opaque !== 0) fields.push(`opaque=${hex(p.opaque, 8)}`);
    if (p.cas !== 0n) fields.push(`cas=${p.cas}`);
    return fields.join(' ');
  });
  if (rest.length > 0) parts.push(`raw(${rest.length})=${rest.subarray(0, 64).toString('hex')}${rest.length > 64 ? '…' : ''}`);
  const s = parts.join(' | ');
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

// ───────────────────────────── exchanges ─────────────────────────────

/** Opaque of the sentinel request appended to sentinel-mode exchanges; corpora must not use it. */
export const SENTINEL_OPAQUE = 0x5e471e1d;

export interface BinaryExchangeOptions extends SendOptions {
  /**
   * 'sentinel' (default): append a Noop (or Version, see `sentinel`) with
   * SENTINEL_OPAQUE and read up to its reply. memcached answers requests in
   * order and a Noop flushes its pending replies. The sentinel reply is
   * dropped from the result when it is a plain success.
   * 'close': read until the server closes the connection.
   * 'quiet': read whatever arrives within `quietMs` (no sentinel sent).
   */
  mode?: 'sentinel' | 'close' | 'quiet';
  /** Sentinel request (default 'noop'); 'version' for servers that refuse Noop before SASL auth. */
  sentinel?: 'noop' | 'version';
  /** Overall time bound for the read (ms, default 5000). */
  timeoutMs?: number;
  /** For mode 'quiet': how long to collect (ms, default 300). */
  quietMs?: number;
}

export async function binaryExchange(conn: RawConnection, payload: Buffer | string, opts: BinaryExchangeOptions = {}): Promise<ExchangeResult> {
  const mode = opts.mode ?? 'sentinel';
  const timeoutMs = opts.timeoutMs ?? 5000;
  if (mode === 'sentinel') {
    const opcode = opts.sentinel === 'version' ? Opcode.VERSION : Opcode.NOOP;
    await conn.send(Buffer.concat([toBuffer(payload), binaryRequest({ opcode, opaque: SENTINEL_OPAQUE })]), opts);
    const isSentinel = (p: Packet): boolean => p.opcode === opcode && p.opaque === SENTINEL_OPAQUE;
    const res = await conn.readUntil((buf) => findResponse(buf, isSentinel)?.end ?? -1, timeoutMs);
    if (res.closed || res.timedOut) return res;
    // Drop the sentinel's reply when it is an ordinary success (no key/extras; Noop: no body).
    const found = findResponse(res.data, isSentinel)!;
    const p = found.packet;
    const plain = p.status === Status.SUCCESS && p.keylen === 0 && p.extlen === 0 && (opcode === Opcode.VERSION || p.bodylen === 0);
    return plain ? { ...res, data: res.data.subarray(0, found.start) } : res;
  }
  await conn.send(payload, opts);
  if (mode === 'close') return conn.readUntilClose(timeoutMs);
  return conn.readFor(Math.min(opts.quietMs ?? 300, timeoutMs));
}
