import { expect } from 'chai';
import type { SaslAuthenticator } from '../../../../src/auth/sasl-session.js';
import { BinaryParser, type BinaryParseEvent } from '../../../../src/protocol/binary/binary-parser.js';
import { feedings } from '../../../helpers/chunking.js';

const ITEM_SIZE_MAX = 1024 * 1024;

interface PacketSpec {
  key?: string | Buffer;
  extras?: Buffer;
  value?: string | Buffer;
  opaque?: number;
  cas?: bigint;
  magic?: number;
  keyLength?: number;
  extrasLength?: number;
  bodyLength?: number;
}

/** A request packet; the length fields can be overridden to build malformed ones. */
function packet(opcode: number, spec: PacketSpec = {}): Buffer {
  const bytes = (v: string | Buffer | undefined) => (Buffer.isBuffer(v) ? v : Buffer.from(v ?? '', 'latin1'));
  const key = bytes(spec.key);
  const extras = spec.extras ?? Buffer.alloc(0);
  const value = bytes(spec.value);
  const header = Buffer.alloc(24);
  header[0] = spec.magic ?? 0x80;
  header[1] = opcode;
  header.writeUInt16BE(spec.keyLength ?? key.length, 2);
  header[4] = spec.extrasLength ?? extras.length;
  header.writeUInt32BE(spec.bodyLength ?? extras.length + key.length + value.length, 8);
  header.writeUInt32BE(spec.opaque ?? 0, 12);
  header.writeBigUInt64BE(spec.cas ?? 0n, 16);
  return Buffer.concat([header, extras, key, value]);
}

const u32 = (...values: number[]) => {
  const out = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => out.writeUInt32BE(v, 4 * i));
  return out;
};
const incrExtras = (delta: bigint, initial: bigint, exptime: number) => {
  const out = Buffer.alloc(20);
  out.writeBigUInt64BE(delta, 0);
  out.writeBigUInt64BE(initial, 8);
  out.writeUInt32BE(exptime, 16);
  return out;
};

/** Events as plain data: Buffers as latin1 text, replies as status + body, bigints as text. */
function plain(events: BinaryParseEvent[]): unknown[] {
  return events.map((event) => {
    if (event.type === 'reply') {
      const data = event.data;
      return { reply: { opcode: data[1], status: data.readUInt16BE(6), opaque: data.readUInt32BE(12), body: data.subarray(24).toString('latin1') } };
    }
    if (event.type === 'close') return { close: true };
    return JSON.parse(JSON.stringify(event, (_k, v: unknown) => {
      if (typeof v === 'bigint') return `${v}n`;
      if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
        return Buffer.from((v as { data: number[] }).data).toString('latin1');
      }
      return v;
    })) as unknown;
  });
}

function parseChunks(chunks: Buffer[], sasl?: SaslAuthenticator, itemSizeMax = ITEM_SIZE_MAX): unknown[] {
  const parser = new BinaryParser({ itemSizeMax, sasl });
  const events: BinaryParseEvent[] = [];
  for (const chunk of chunks) parser.feed(chunk, (e) => events.push(e));
  return plain(events);
}

/** Parses input whole, byte by byte and split at every offset; all must agree with expected. */
function check(input: Buffer, expected: unknown[], sasl?: () => SaslAuthenticator, itemSizeMax?: number): void {
  for (const { name, chunks } of feedings(input)) {
    expect(parseChunks(chunks, sasl?.(), itemSizeMax), name).to.deep.equal(expected);
  }
}

const frame = (opcode: number, extra: Record<string, unknown> = {}) => ({
  opcode, opaque: 0, quiet: false, withKey: false, noValue: false, ...extra,
});
const req = (request: Record<string, unknown>, f: Record<string, unknown>) => ({ type: 'request', request, frame: f });
const reply = (opcode: number, status: number, body: string, opaque = 0) => ({ reply: { opcode, status, opaque, body } });
const CLOSE = { close: true };

describe('BinaryParser', () => {
  describe('retrieval', () => {
    it('reads GET, GETK and their quiet forms with the opaque to echo', () => {
      const input = Buffer.concat([
        packet(0x00, { key: 'a', opaque: 1 }),
        packet(0x0c, { key: 'b', opaque: 0xdeadbeef }),
        packet(0x09, { key: 'c' }),
        packet(0x0d, { key: 'd' }),
        packet(0x0a),
      ]);
      const get = (key: string) => ({ kind: 'get', keys: [key], withCas: true });
      check(input, [
        req(get('a'), frame(0x00, { opaque: 1 })),
        req(get('b'), frame(0x0c, { opaque: 0xdeadbeef, withKey: true })),
        req(get('c'), frame(0x09, { quiet: true })),
        req(get('d'), frame(0x0d, { quiet: true, withKey: true })),
        req({ kind: 'noop' }, frame(0x0a)),
      ]);
    });

    it('reads TOUCH, GAT and GATK(Q) as gets that touch; TOUCH replies carry no value', () => {
      const input = Buffer.concat([
        packet(0x1c, { key: 't', extras: u32(10) }),
        packet(0x1d, { key: 'g', extras: u32(0xffffffff) }),
        packet(0x24, { key: 'k', extras: u32(0) }),
      ]);
      const gat = (key: string, touchExptime: number) => ({ kind: 'get', keys: [key], withCas: true, touchExptime });
      check(input, [
        req(gat('t', 10), frame(0x1c, { noValue: true })),
        req(gat('g', 0xffffffff), frame(0x1d)),
        req(gat('k', 0), frame(0x24, { quiet: true, withKey: true })),
      ]);
    });
  });

  describe('storage', () => {
    it('reads SET/ADD/REPLACE with flags, exptime and a binary-safe value; a CAS makes them cas', () => {
      const value = Buffer.from([0x80, 0x00, 0x0d, 0x0a, 0xff]);
      const input = Buffer.concat([
        packet(0x01, { key: 's', extras: u32(0xffffffff, 100), value }),
        packet(0x12, { key: 'a', extras: u32(768, 0), value: '' }),
        packet(0x03, { key: 'r', extras: u32(2, 2678400), value: 'x', cas: 42n }),
      ]);
      check(input, [
        req({ kind: 'store', mode: 'set', key: 's', flags: 0xffffffff, exptime: 100, value: value.toString('latin1'), cas: '0n', noreply: false }, frame(0x01)),
        req({ kind: 'store', mode: 'add', key: 'a', flags: 768, exptime: 0, value: '', cas: '0n', noreply: true }, frame(0x12, { quiet: true })),
        req({ kind: 'store', mode: 'cas', key: 'r', flags: 2, exptime: 2678400, value: 'x', cas: '42n', noreply: false }, frame(0x03)),
      ]);
    });

    it('reads APPEND/PREPEND(Q) without extras, keeping their mode even with a CAS', () => {
      const input = Buffer.concat([
        packet(0x0e, { key: 'a', value: 'tail', cas: 7n }),
        packet(0x1a, { key: 'p', value: 'head' }),
      ]);
      check(input, [
        req({ kind: 'store', mode: 'append', key: 'a', flags: 0, exptime: 0, value: 'tail', cas: '7n', noreply: false }, frame(0x0e)),
        req({ kind: 'store', mode: 'prepend', key: 'p', flags: 0, exptime: 0, value: 'head', cas: '0n', noreply: true }, frame(0x1a, { quiet: true })),
      ]);
    });

    it('swallows a value that is too large and answers after it; the stream stays in sync', () => {
      const limit = 2000;
      const input = Buffer.concat([
        packet(0x11, { key: 'big', extras: u32(0, 0), value: Buffer.alloc(limit, 0x61) }),
        packet(0x0a, { opaque: 5 }),
      ]);
      check(input, [
        req({ kind: 'tooLarge', mode: 'set', key: 'big', noreply: false }, frame(0x11, { quiet: false })),
        req({ kind: 'noop' }, frame(0x0a, { opaque: 5 })),
      ], undefined, limit);
    });
  });

  describe('other commands', () => {
    it('reads DELETE with CAS, INCR/DECR with initial value or "fail if missing", FLUSH with a delay', () => {
      const input = Buffer.concat([
        packet(0x14, { key: 'd', cas: 9n }),
        packet(0x05, { key: 'n', extras: incrExtras(5n, 10n, 60) }),
        packet(0x06, { key: 'm', extras: incrExtras(2n ** 64n - 1n, 0n, 0xffffffff) }),
        packet(0x18, { extras: u32(30) }),
        packet(0x08),
      ]);
      check(input, [
        req({ kind: 'delete', key: 'd', cas: '9n', noreply: true }, frame(0x14, { quiet: true })),
        req({ kind: 'arith', incr: true, key: 'n', delta: '5n', initial: { value: '10n', exptime: 60 }, cas: '0n', noreply: false }, frame(0x05)),
        req({ kind: 'arith', incr: false, key: 'm', delta: `${2n ** 64n - 1n}n`, cas: '0n', noreply: false }, frame(0x06)),
        req({ kind: 'flush', delay: 30, noreply: true }, frame(0x18, { quiet: true })),
        req({ kind: 'flush', delay: 0, noreply: false }, frame(0x08)),
      ]);
    });

    it('reads STAT groups as memcached compares them, and answers "conns" as unknown', () => {
      const input = Buffer.concat([
        packet(0x10),
        packet(0x10, { key: 'settings' }),
        packet(0x10, { key: 'resetting' }),
        packet(0x10, { key: 'conns', opaque: 3 }),
        packet(0x07),
        packet(0x17),
      ]);
      check(input, [
        req({ kind: 'stats', group: '' }, frame(0x10)),
        req({ kind: 'stats', group: 'settings' }, frame(0x10)),
        req({ kind: 'stats', group: 'reset' }, frame(0x10)),
        reply(0x10, 0x01, 'Not found', 3),
        req({ kind: 'quit' }, frame(0x07)),
        req({ kind: 'quit' }, frame(0x17, { quiet: true })),
      ]);
    });
  });

  describe('errors', () => {
    it('answers an unknown opcode and swallows bodylen bytes after its key, as memcached does', () => {
      // 4 bytes of extras are read with the header, then 4 more (bodylen) are swallowed:
      // the first 4 bytes of the NOOP that follows are lost, as with memcached.
      const input = Buffer.concat([
        packet(0x1b, { extras: u32(1), opaque: 1 }),
        Buffer.from('junk'),
        packet(0x0a, { opaque: 2 }),
      ]);
      check(input, [reply(0x1b, 0x81, 'Unknown command', 1), req({ kind: 'noop' }, frame(0x0a, { opaque: 2 }))]);
    });

    it('closes on a bad magic once a whole header is in, and on lengths that cannot be', () => {
      check(Buffer.concat([packet(0x0a), Buffer.from('get a\r\nget b\r\nget c\r\nget d\r\n')]), [req({ kind: 'noop' }, frame(0x0a)), CLOSE]);
      check(packet(0x00, { key: 'abc', bodyLength: 2 }), [reply(0x00, 0x81, 'Unknown command'), CLOSE]);
      check(packet(0x01, { key: 'k', extras: u32(0, 0), bodyLength: 8 }), [reply(0x01, 0x81, 'Unknown command'), CLOSE]);
    });

    it('answers malformed packets with "Invalid arguments" and closes', () => {
      const cases: Buffer[] = [
        packet(0x00, { key: 'k'.repeat(251) }),
        packet(0x00),
        packet(0x00, { key: 'k', extras: u32(1) }),
        packet(0x01, { key: 'k', extras: u32(0) }),
        packet(0x05, { key: 'k', extras: u32(1, 2) }),
        packet(0x1c, { key: 'k' }),
        packet(0x08, { extras: Buffer.alloc(8) }),
        packet(0x0a, { key: 'k' }),
        packet(0x04, { key: 'k', extras: u32(1) }),
      ];
      for (const input of cases) {
        check(Buffer.concat([input, packet(0x0a)]), [reply(input[1]!, 0x04, 'Invalid arguments'), CLOSE]);
      }
    });

    it('answers SASL opcodes as unknown when authentication is off', () => {
      check(Buffer.concat([packet(0x20), packet(0x21, { key: 'PLAIN', value: '\0u\0p' }), packet(0x0a)]), [
        reply(0x20, 0x81, 'Unknown command'),
        reply(0x21, 0x81, 'Unknown command'),
        req({ kind: 'noop' }, frame(0x0a)),
      ]);
    });
  });

  describe('SASL', () => {
    const authenticator = (): SaslAuthenticator => ({
      mechanisms: 'PLAIN',
      verify: (mechanism, response) => mechanism === 'PLAIN' && response.toString() === '\0user\0secret',
      refused: () => undefined,
    });

    it('refuses everything but VERSION and SASL before authentication, and closes', () => {
      check(Buffer.concat([packet(0x0b), packet(0x00, { key: 'k', opaque: 4 }), packet(0x0a)]), [
        req({ kind: 'version' }, frame(0x0b)),
        reply(0x00, 0x20, 'Auth failure.', 4),
        CLOSE,
      ], authenticator);
    });

    it('lists PLAIN, authenticates, then serves; a failed auth leaves the client unauthenticated', () => {
      check(Buffer.concat([
        packet(0x20),
        packet(0x21, { key: 'PLAIN', value: '\0user\0wrong' }),
        packet(0x21, { key: 'PLAIN', value: '\0user\0secret' }),
        packet(0x00, { key: 'k' }),
        packet(0x21, { key: 'PLAIN', value: '\0user\0nope' }),
        packet(0x00, { key: 'k' }),
      ]), [
        reply(0x20, 0x00, 'PLAIN'),
        reply(0x21, 0x20, 'Auth failure.'),
        reply(0x21, 0x00, 'Authenticated'),
        req({ kind: 'get', keys: ['k'], withCas: true }, frame(0x00)),
        reply(0x21, 0x20, 'Auth failure.'),
        reply(0x00, 0x20, 'Auth failure.'),
        CLOSE,
      ], authenticator);
    });

    it('takes PLAIN credentials in a STEP after an empty AUTH; a STEP with nothing started fails', () => {
      check(Buffer.concat([
        packet(0x22, { key: 'PLAIN', value: '\0user\0secret' }),
        packet(0x21, { key: 'PLAIN' }),
        packet(0x22, { key: 'PLAIN', value: '\0user\0secret' }),
        packet(0x0a),
      ]), [
        reply(0x22, 0x20, 'Auth failure.'),
        reply(0x21, 0x21, ''),
        reply(0x22, 0x00, 'Authenticated'),
        req({ kind: 'noop' }, frame(0x0a)),
      ], authenticator);
    });
  });
});
