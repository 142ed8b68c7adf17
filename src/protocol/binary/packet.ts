import { HEADER_LENGTH, RESPONSE_MAGIC, STATUS_TEXT, Status } from './opcodes.js';

export interface ResponseHeader {
  opcode: number;
  status: number;
  keyLength: number;
  extrasLength: number;
  bodyLength: number;
  opaque: number;
  cas: bigint;
}

/** A response header (add_bin_header); datatype is always raw bytes. */
export function responseHeader(h: ResponseHeader): Buffer {
  const out = Buffer.alloc(HEADER_LENGTH);
  out[0] = RESPONSE_MAGIC;
  out[1] = h.opcode;
  out.writeUInt16BE(h.keyLength, 2);
  out[4] = h.extrasLength;
  out.writeUInt16BE(h.status, 6);
  out.writeUInt32BE(h.bodyLength, 8);
  out.writeUInt32BE(h.opaque, 12);
  out.writeBigUInt64BE(h.cas, 16);
  return out;
}

/** A header and a body in one buffer, for small replies. */
export function simplePacket(opcode: number, opaque: number, status: number, body: Buffer | string = '', cas = 0n): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  const header = responseHeader({
    opcode, status, keyLength: 0, extrasLength: 0, bodyLength: bytes.length, opaque, cas,
  });
  return bytes.length === 0 ? header : Buffer.concat([header, bytes]);
}

/** An error reply as write_bin_error sends it: the status and its text (or the text given). */
export function errorPacket(opcode: number, opaque: number, status: number, text?: string): Buffer {
  return simplePacket(opcode, opaque, status, text ?? STATUS_TEXT[status] ?? '');
}

export function successPacket(opcode: number, opaque: number, body: Buffer | string = '', cas = 0n): Buffer {
  return simplePacket(opcode, opaque, Status.SUCCESS, body, cas);
}
