// The few memcached requests the load generator sends (get and set, text and binary) and
// incremental parsers that split the reply stream into one reply per request, in order.
import { HEADER_LENGTH, Opcode, REQUEST_MAGIC, RESPONSE_MAGIC, Status } from '../../src/protocol/binary/opcodes.js';

export type Protocol = 'text' | 'binary';

/** One reply: `ok` is a hit for get and stored for set; `miss` a get that found nothing. */
export type ReplyKind = 'ok' | 'miss' | 'error';

export interface ReplyParser {
  /** Feeds bytes as they arrive; calls onReply once per complete reply, in order. */
  push(chunk: Buffer): void;
}

const CRLF = Buffer.from('\r\n');

// get <key>\r\n
export function textGet(key: string): Buffer {
  return Buffer.from(`get ${key}\r\n`, 'latin1');
}

// set <key> <flags> <exptime> <bytes>\r\n<data>\r\n
export function textSet(key: string, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`set ${key} 0 0 ${value.length}\r\n`, 'latin1'), value, CRLF]);
}

export function textVersion(): Buffer {
  return Buffer.from('version\r\n', 'latin1');
}

export function binaryRequest(opcode: number, key: Buffer, extras: Buffer, value: Buffer, opaque: number): Buffer {
  const packet = Buffer.alloc(HEADER_LENGTH + extras.length + key.length + value.length);
  packet[0] = REQUEST_MAGIC;
  packet[1] = opcode;
  packet.writeUInt16BE(key.length, 2);
  packet[4] = extras.length;
  // [5] data type 0, [6..7] vbucket 0
  packet.writeUInt32BE(extras.length + key.length + value.length, 8);
  packet.writeUInt32BE(opaque >>> 0, 12);
  // [16..23] cas 0
  extras.copy(packet, HEADER_LENGTH);
  key.copy(packet, HEADER_LENGTH + extras.length);
  value.copy(packet, HEADER_LENGTH + extras.length + key.length);
  return packet;
}

const NO_BYTES = Buffer.alloc(0);
const SET_EXTRAS = Buffer.alloc(8); // flags 0, exptime 0

export function binaryGet(key: string, opaque = 0): Buffer {
  return binaryRequest(Opcode.GET, Buffer.from(key, 'latin1'), NO_BYTES, NO_BYTES, opaque);
}

export function binarySet(key: string, value: Buffer, opaque = 0): Buffer {
  return binaryRequest(Opcode.SET, Buffer.from(key, 'latin1'), SET_EXTRAS, value, opaque);
}

/** Keeps the unconsumed tail of the stream; copies only when a reply spans chunks. */
class StreamBuffer {
  buf: Buffer = NO_BYTES;
  pos = 0;

  append(chunk: Buffer): void {
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    }
    this.pos = 0;
  }

  get available(): number {
    return this.buf.length - this.pos;
  }
}

/**
 * Text replies to get and set (and version). A get reply is zero or more
 * `VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\n` blocks and `END\r\n`; a set reply is
 * one line. Any other line (ERROR, CLIENT_ERROR …, SERVER_ERROR …, NOT_STORED) ends the
 * current request as an error.
 */
export class TextReplyParser implements ReplyParser {
  private readonly stream = new StreamBuffer();
  private hit = false;

  constructor(private readonly onReply: (kind: ReplyKind, line: string) => void) {}

  push(chunk: Buffer): void {
    const s = this.stream;
    s.append(chunk);
    for (;;) {
      const nl = s.buf.indexOf(0x0a, s.pos);
      if (nl < 0) return;
      const lineEnd = nl > s.pos && s.buf[nl - 1] === 0x0d ? nl - 1 : nl;
      const line = s.buf.toString('latin1', s.pos, lineEnd);
      if (line.startsWith('VALUE ')) {
        const bytes = Number(line.split(' ')[3]);
        if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`bad VALUE line: ${line}`);
        const dataEnd = nl + 1 + bytes + 2;
        if (dataEnd > s.buf.length) return; // wait for the whole block, re-read the line then
        this.hit = true;
        s.pos = dataEnd;
        continue;
      }
      s.pos = nl + 1;
      if (line === 'END') {
        this.onReply(this.hit ? 'ok' : 'miss', line);
        this.hit = false;
      } else if (line === 'STORED' || line.startsWith('VERSION ')) {
        this.onReply('ok', line);
      } else {
        this.hit = false;
        this.onReply('error', line);
      }
    }
  }
}

/** Binary replies: a 24-byte header whose total body length says where the next one starts. */
export class BinaryReplyParser implements ReplyParser {
  private readonly stream = new StreamBuffer();

  constructor(private readonly onReply: (kind: ReplyKind, line: string) => void) {}

  push(chunk: Buffer): void {
    const s = this.stream;
    s.append(chunk);
    while (s.available >= HEADER_LENGTH) {
      if (s.buf[s.pos] !== RESPONSE_MAGIC) throw new Error(`bad binary reply magic 0x${s.buf[s.pos]!.toString(16)}`);
      const total = HEADER_LENGTH + s.buf.readUInt32BE(s.pos + 8);
      if (s.available < total) return;
      const status = s.buf.readUInt16BE(s.pos + 6);
      const start = s.pos;
      s.pos += total;
      if (status === Status.SUCCESS) this.onReply('ok', '');
      else if (status === Status.KEY_ENOENT && s.buf[start + 1] === Opcode.GET) this.onReply('miss', '');
      else {
        const body = s.buf.toString('latin1', start + HEADER_LENGTH, start + total);
        this.onReply('error', `binary status 0x${status.toString(16).padStart(4, '0')} ${body}`);
      }
    }
  }
}

export function replyParser(protocol: Protocol, onReply: (kind: ReplyKind, line: string) => void): ReplyParser {
  return protocol === 'text' ? new TextReplyParser(onReply) : new BinaryReplyParser(onReply);
}

export function getRequest(protocol: Protocol, key: string): Buffer {
  return protocol === 'text' ? textGet(key) : binaryGet(key);
}

export function setRequest(protocol: Protocol, key: string, value: Buffer): Buffer {
  return protocol === 'text' ? textSet(key, value) : binarySet(key, value);
}
