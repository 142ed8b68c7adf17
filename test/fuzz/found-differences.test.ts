/**
 * Regression tests for the differences random sequences found between memgate and memcached
 * 1.6.18: those fixed are compared with memcached byte for byte; those kept on purpose
 * (docs/differences.md) are pinned on both servers, so a change on either side shows.
 */
import { expect } from 'chai';
import { Opcode } from '../../src/protocol/binary/opcodes.js';
import { arithmeticExtras, binaryRequest, storeExtras } from '../helpers/binary-packets.js';
import { startGateway } from '../helpers/gateway.js';
import { startMemcached } from '../helpers/memcached-server.js';
import { RawConnection } from '../helpers/raw-connection.js';
import { compare, describe as describeRun, fixed, replay, startPair, type Pair, type Sequence } from './differential-pair.js';

const text = (...writes: string[]): Sequence => ({ protocol: 'text', writes: writes.map(fixed) });
const binary = (...writes: Buffer[]): Sequence => ({ protocol: 'binary', writes: writes.map(fixed) });

const LONG_OPAQUE = `O${'o'.repeat(33)}`;
const LONG_KEY = 'x'.repeat(251);

describe('differences found by fuzzing', function () {
  this.timeout(30_000);
  let pair: Pair;

  before(async function () {
    this.timeout(120_000);
    pair = await startPair();
  });

  after(async () => pair?.stop());

  async function expectSame(sequence: Sequence): Promise<void> {
    const result = await compare(pair, sequence);
    expect(result.same, describeRun(sequence, result)).to.equal(true);
  }

  it('mg with N creates the item even when a too long opaque before or after N fails the command', () =>
    expectSame(text(
      `mg fd1a ${LONG_OPAQUE} N0\r\n`, 'mg fd1a t v h\r\n', 'ma fd1a\r\n',
      `mg fd1b N30 ${LONG_OPAQUE} T60\r\n`, 'mg fd1b t v\r\n',
      `mg fd1c ${LONG_OPAQUE} T30 N0\r\n`, 'mg fd1c t v\r\n', 'me fd1c\r\n',
    )));

  it('gat to a past or negative exptime answers a repeated key once', () =>
    expectSame(text(
      'set fd2 0 0 1\r\nx\r\n', 'gat -1 fd2 fd2\r\n', 'get fd2\r\n',
      'set fd2 0 0 1\r\nx\r\n', 'gats 2592001 fd2 fd2 fd2\r\n',
      'set fd2 0 0 1\r\nx\r\n', 'gat 2147483648 fd2 fd2\r\n',
      'set fd2 0 0 1\r\nx\r\n', 'gat 99999999999 fd2 fd2\r\n',
      'set fd2 0 0 1\r\nx\r\n', 'gat 3600 fd2 fd2\r\n', 'gat 0 fd2 fd2\r\n',
    )));

  it('get and gat look up (and touch) the keys before a too long one, then answer only the error', () =>
    expectSame(text(
      'set fd3 0 0 1\r\nx\r\n', `gat 3600 fd3 ${LONG_KEY}\r\n`, 'mg fd3 t h\r\n',
      'set fd3b 0 0 1\r\nx\r\n', `get fd3b fd3b ${LONG_KEY} fd3b\r\n`, 'mg fd3b h l t\r\n',
      `gets ${LONG_KEY} fd3b\r\n`, 'get fd3b\r\n',
    )));

  it('binary decr of a counter read in the same write: memgate shrinks it in place (deliberate)', async function () {
    const key = 'fd4';
    const setTo42 = binaryRequest({ opcode: Opcode.SET, key, extras: storeExtras(0, 0), value: '42' });
    const decr41 = binaryRequest({ opcode: Opcode.DECREMENT, key, extras: arithmeticExtras(41n, 0n, 0) });
    const get = binaryRequest({ opcode: Opcode.GET, key });
    const getk = binaryRequest({ opcode: Opcode.GETK, key });
    // In separate writes both servers pad the shorter number with spaces.
    await expectSame(binary(setTo42, getk, decr41, get));
    // In one write memcached's pending GETK reply pins the old item and the DECR makes a new one.
    const oneWrite = binary(setTo42, Buffer.concat([getk, decr41]), get);
    const [memcached, memgate] = await Promise.all([replay(pair.memcached, oneWrite), replay(pair.memgate, oneWrite)]);
    expect(memcached.replies[2]).to.contain('value="1"');
    expect(memgate.replies[2]).to.contain('value="1 "');
    expect(memgate.replies.slice(0, 2)).to.deep.equal(memcached.replies.slice(0, 2));
  });

  it('memgate sends the replies of earlier commands in the same write where memcached drops them (deliberate)', async function () {
    // A get with a too long key, and a hang-up after a malformed binary packet.
    const textRun = text(`set fd6 0 0 1\r\nx\r\nget ${LONG_KEY} fd6\r\n`, 'get fd6\r\n');
    const unknownWithKey = binaryRequest({ opcode: 0x1b, key: 'fd6', bodylen: 3 });
    const binaryRun = binary(Buffer.concat([unknownWithKey, binaryRequest({ opcode: Opcode.GET, key: 'fd6' })]));
    const [text1, text2, bin1, bin2] = await Promise.all([
      replay(pair.memcached, textRun), replay(pair.memgate, textRun), replay(pair.memcached, binaryRun), replay(pair.memgate, binaryRun),
    ]);
    expect(text1.replies).to.deep.equal(['CLIENT_ERROR bad command line format\\r\\n', 'VALUE fd6 0 1\\r\\nx\\r\\nEND\\r\\n']);
    expect(text2.replies).to.deep.equal(['STORED\\r\\nCLIENT_ERROR bad command line format\\r\\n', 'VALUE fd6 0 1\\r\\nx\\r\\nEND\\r\\n']);
    expect(bin1.replies).to.deep.equal([' <closed>']);
    expect(bin2.replies).to.have.length(1);
    expect(bin2.replies[0]).to.match(/^op\(0x1b\) status=0x0081 UNKNOWN_COMMAND .* <closed>$/);
  });

  it('memgate sends replies while a later value is still arriving, where memcached holds them (deliberate)', async function () {
    const ask = async (port: number, first: Buffer, rest: Buffer): Promise<string[]> => {
      const conn = await RawConnection.open(port);
      try {
        const before = await conn.exchange(first, { mode: 'quiet', quietMs: 500 });
        const after = await conn.exchange(rest, { mode: 'quiet', quietMs: 500 });
        return [before.data.toString('latin1'), after.data.toString('latin1')];
      } finally {
        await conn.close();
      }
    };
    const first = Buffer.from('set fd7 0 0 1\r\n1\r\nincr fd7 1\r\nset fd7b 0 0 10\r\nabc', 'latin1');
    const rest = Buffer.from('defghij\r\n', 'latin1');
    const [reference, subject] = await Promise.all([ask(pair.memcached.port, first, rest), ask(pair.memgate.port, first, rest)]);
    expect(reference).to.deep.equal(['', 'STORED\r\n2\r\nSTORED\r\n']);
    expect(subject).to.deep.equal(['STORED\r\n2\r\n', 'STORED\r\n']);
  });
});

describe('a delayed flush_all caps the expiry of items written before it (deliberate)', function () {
  this.timeout(60_000);

  it('memgate reports the time to the flush as the TTL where memcached reports none', async function () {
    const [memcached, memgate] = await Promise.all([startMemcached(), startGateway()]);
    try {
      const ask = async (port: number): Promise<string[]> => {
        const conn = await RawConnection.open(port);
        try {
          return [
            await conn.request('flush_all 3600\r\n'),
            await conn.request('set fd5 0 0 1\r\nx\r\n'),
            (await conn.exchange('mg fd5 t v\r\n')).data.toString('latin1'),
            (await conn.exchange('me fd5\r\n')).data.toString('latin1'),
          ];
        } finally {
          await conn.close();
        }
      };
      const [reference, subject] = await Promise.all([ask(memcached.port), ask(memgate.port)]);
      expect(reference.slice(0, 3)).to.deep.equal(['OK\r\n', 'STORED\r\n', 'VA 1 t-1\r\nx\r\n']);
      expect(reference[3]).to.match(/^ME fd5 exp=-1 /);
      expect(subject.slice(0, 2)).to.deep.equal(['OK\r\n', 'STORED\r\n']);
      expect(subject[2]).to.match(/^VA 1 t(3599|3600)\r\nx\r\n$/);
      expect(subject[3]).to.match(/^ME fd5 exp=-(3599|3600) /);
    } finally {
      await Promise.all([memcached.stop(), memgate.stop()]);
    }
  });
});
