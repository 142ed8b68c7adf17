import { expect } from 'chai';
import type { Request } from '../../../../src/model/request.js';
import type { Response } from '../../../../src/model/response.js';
import type { BinaryFrame } from '../../../../src/protocol/binary/binary-parser.js';
import { writeBinaryResponse } from '../../../../src/protocol/binary/binary-serializer.js';
import { Opcode, Status } from '../../../../src/protocol/binary/opcodes.js';
import { binaryResponse, type Bytes } from '../../../helpers/binary-packets.js';

const k = (s: string) => Buffer.from(s, 'latin1');
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};

interface PacketSpec {
  opcode: number;
  status?: number;
  key?: Bytes;
  extras?: Bytes;
  value?: Bytes;
  opaque?: number;
  cas?: bigint;
}

const packet = (spec: PacketSpec): Buffer => binaryResponse(spec);

const frame = (opcode: number, extra: Partial<BinaryFrame> = {}): BinaryFrame => ({
  opcode, opaque: 0x01020304, quiet: false, withKey: false, noValue: false, ...extra,
});

function bytes(request: Request, f: BinaryFrame, response: Response): Buffer {
  const out: Buffer[] = [];
  writeBinaryResponse(request, f, response, (piece) => out.push(typeof piece === 'string' ? k(piece) : piece));
  return Buffer.concat(out);
}

const OPAQUE = 0x01020304;
const GET: Request = { kind: 'get', keys: [k('key')], withCas: true };
const hits = (value: string | null): Response => ({
  kind: 'hits', items: [value === null ? null : { key: k('key'), value: k(value), flags: 0xdeadbeef, cas: 77n }], withCas: true,
});
const store = (mode: 'set' | 'add' | 'replace' | 'append'): Request => ({
  kind: 'store', mode, key: k('key'), flags: 0, exptime: 0, value: k('v'), cas: 0n, noreply: false,
});
const error = (opcode: number, status: number, text: string) => packet({ opcode, status, value: text, opaque: OPAQUE });

describe('writeBinaryResponse', () => {
  it('answers a hit with flags, CAS and value; GETK adds the key, TOUCH leaves out the value', () => {
    expect(bytes(GET, frame(Opcode.GET), hits('hello')))
      .to.deep.equal(packet({ opcode: Opcode.GET, extras: u32(0xdeadbeef), value: 'hello', opaque: OPAQUE, cas: 77n }));
    expect(bytes(GET, frame(Opcode.GETKQ, { quiet: true, withKey: true }), hits('')))
      .to.deep.equal(packet({ opcode: Opcode.GETKQ, extras: u32(0xdeadbeef), key: 'key', opaque: OPAQUE, cas: 77n }));
    expect(bytes(GET, frame(Opcode.TOUCH, { noValue: true }), hits('hello')))
      .to.deep.equal(packet({ opcode: Opcode.TOUCH, extras: u32(0xdeadbeef), opaque: OPAQUE, cas: 77n }));
  });

  it('answers a miss "Not found", GETK with the key instead, and a quiet get with nothing', () => {
    expect(bytes(GET, frame(Opcode.GET), hits(null))).to.deep.equal(error(Opcode.GET, Status.KEY_ENOENT, 'Not found'));
    expect(bytes(GET, frame(Opcode.GETK, { withKey: true }), hits(null)))
      .to.deep.equal(packet({ opcode: Opcode.GETK, status: Status.KEY_ENOENT, key: 'key', opaque: OPAQUE }));
    expect(bytes(GET, frame(Opcode.GETQ, { quiet: true }), hits(null))).to.deep.equal(Buffer.alloc(0));
  });

  it('answers stores: success with the CAS (nothing when quiet), and each refusal with its status', () => {
    expect(bytes(store('set'), frame(Opcode.SET), { kind: 'store', outcome: 'stored', cas: 5n }))
      .to.deep.equal(packet({ opcode: Opcode.SET, opaque: OPAQUE, cas: 5n }));
    expect(bytes(store('set'), frame(Opcode.SETQ, { quiet: true }), { kind: 'store', outcome: 'stored', cas: 5n })).to.deep.equal(Buffer.alloc(0));
    expect(bytes(store('set'), frame(Opcode.SETQ, { quiet: true }), { kind: 'store', outcome: 'exists' }))
      .to.deep.equal(error(Opcode.SETQ, Status.KEY_EEXISTS, 'Data exists for key.'));
    expect(bytes(store('set'), frame(Opcode.SET), { kind: 'store', outcome: 'not_found' }))
      .to.deep.equal(error(Opcode.SET, Status.KEY_ENOENT, 'Not found'));
    expect(bytes(store('add'), frame(Opcode.ADD), { kind: 'store', outcome: 'not_stored' }))
      .to.deep.equal(error(Opcode.ADD, Status.KEY_EEXISTS, 'Data exists for key.'));
    expect(bytes(store('replace'), frame(Opcode.REPLACE), { kind: 'store', outcome: 'not_stored' }))
      .to.deep.equal(error(Opcode.REPLACE, Status.KEY_ENOENT, 'Not found'));
    expect(bytes(store('append'), frame(Opcode.APPEND), { kind: 'store', outcome: 'not_stored' }))
      .to.deep.equal(error(Opcode.APPEND, Status.NOT_STORED, 'Not stored.'));
  });

  it('answers delete, touch and arithmetic outcomes', () => {
    const del: Request = { kind: 'delete', key: k('key'), noreply: false };
    expect(bytes(del, frame(Opcode.DELETE), { kind: 'delete', outcome: 'deleted' })).to.deep.equal(packet({ opcode: Opcode.DELETE, opaque: OPAQUE }));
    expect(bytes(del, frame(Opcode.DELETE), { kind: 'delete', outcome: 'exists' })).to.deep.equal(error(Opcode.DELETE, Status.KEY_EEXISTS, 'Data exists for key.'));
    expect(bytes(del, frame(Opcode.DELETEQ, { quiet: true }), { kind: 'delete', outcome: 'not_found' }))
      .to.deep.equal(error(Opcode.DELETEQ, Status.KEY_ENOENT, 'Not found'));
    expect(bytes(del, frame(Opcode.TOUCH), { kind: 'touch', outcome: 'touched' })).to.deep.equal(packet({ opcode: Opcode.TOUCH, opaque: OPAQUE }));
    expect(bytes(del, frame(Opcode.TOUCH), { kind: 'touch', outcome: 'not_found' })).to.deep.equal(error(Opcode.TOUCH, Status.KEY_ENOENT, 'Not found'));
    const incr: Request = { kind: 'arith', incr: true, key: k('key'), delta: 1n, noreply: false };
    expect(bytes(incr, frame(Opcode.INCREMENT), { kind: 'arith', outcome: 'ok', value: 2n ** 64n - 1n, cas: 8n }))
      .to.deep.equal(packet({ opcode: Opcode.INCREMENT, value: u64(2n ** 64n - 1n), opaque: OPAQUE, cas: 8n }));
    expect(bytes(incr, frame(Opcode.INCREMENTQ, { quiet: true }), { kind: 'arith', outcome: 'ok', value: 2n })).to.deep.equal(Buffer.alloc(0));
    expect(bytes(incr, frame(Opcode.INCREMENT), { kind: 'arith', outcome: 'not_found' })).to.deep.equal(error(Opcode.INCREMENT, Status.KEY_ENOENT, 'Not found'));
    expect(bytes(incr, frame(Opcode.INCREMENT), { kind: 'arith', outcome: 'exists' })).to.deep.equal(error(Opcode.INCREMENT, Status.KEY_EEXISTS, 'Data exists for key.'));
    expect(bytes(incr, frame(Opcode.DECREMENT), { kind: 'arith', outcome: 'non_numeric' }))
      .to.deep.equal(error(Opcode.DECREMENT, Status.DELTA_BADVAL, 'Non-numeric server-side value for incr or decr'));
  });

  it('answers server commands and stats, each stats run ending with an empty STAT packet', () => {
    const stat = (key = '', value = '') => packet({ opcode: Opcode.STAT, key, value, opaque: OPAQUE });
    const stats: Request = { kind: 'stats', group: '' };
    expect(bytes({ kind: 'noop' }, frame(Opcode.NOOP), { kind: 'ok' })).to.deep.equal(packet({ opcode: Opcode.NOOP, opaque: OPAQUE }));
    expect(bytes({ kind: 'quit' }, frame(Opcode.QUIT), { kind: 'quit' })).to.deep.equal(packet({ opcode: Opcode.QUIT, opaque: OPAQUE }));
    expect(bytes({ kind: 'quit' }, frame(Opcode.QUITQ, { quiet: true }), { kind: 'quit' })).to.deep.equal(Buffer.alloc(0));
    expect(bytes({ kind: 'version' }, frame(Opcode.VERSION), { kind: 'version', version: '1.6.18' }))
      .to.deep.equal(packet({ opcode: Opcode.VERSION, value: '1.6.18', opaque: OPAQUE }));
    expect(bytes(stats, frame(Opcode.STAT), { kind: 'stats', entries: [['pid', '7'], ['uptime', '3']] }))
      .to.deep.equal(Buffer.concat([stat('pid', '7'), stat('uptime', '3'), stat()]));
    expect(bytes({ kind: 'stats', group: 'reset' }, frame(Opcode.STAT), { kind: 'reset' })).to.deep.equal(stat());
    expect(bytes({ kind: 'stats', group: 'bogus' }, frame(Opcode.STAT), { kind: 'unknownCommand' }))
      .to.deep.equal(error(Opcode.STAT, Status.KEY_ENOENT, 'Not found'));
  });

  it('answers errors with their status, always, quiet or not', () => {
    const set = store('set');
    const quiet = frame(Opcode.SETQ, { quiet: true });
    expect(bytes(set, quiet, { kind: 'tooLarge' })).to.deep.equal(error(Opcode.SETQ, Status.E2BIG, 'Too large.'));
    expect(bytes({ kind: 'flush', delay: 0, noreply: false }, frame(Opcode.FLUSH), { kind: 'forbidden', message: 'flush_all not allowed' }))
      .to.deep.equal(error(Opcode.FLUSH, Status.AUTH_ERROR, 'Auth failure.'));
    expect(bytes(set, quiet, { kind: 'clientError', message: 'bad value' })).to.deep.equal(error(Opcode.SETQ, Status.EINVAL, 'bad value'));
    expect(bytes(set, quiet, { kind: 'serverError', message: 'database unavailable' }))
      .to.deep.equal(error(Opcode.SETQ, Status.ETMPFAIL, 'database unavailable'));
    expect(bytes({ kind: 'version' }, frame(Opcode.VERSION), { kind: 'unknownCommand' }))
      .to.deep.equal(error(Opcode.VERSION, Status.UNKNOWN_COMMAND, 'Unknown command'));
  });
});
