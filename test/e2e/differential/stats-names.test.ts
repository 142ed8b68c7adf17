/**
 * Differential test of what `stats` reports, by name (values differ by nature): memcached
 * 1.6.18 and memgate, after the same stores, in the text and the binary protocol. The general
 * group must carry every field memcached's does, in its order (memgate's own follow); `stats
 * items` and `stats slabs` the same names, slab class numbers aside (memgate has one class).
 */
import { expect } from 'chai';
import { Opcode } from '../../../src/protocol/binary/opcodes.js';
import { binaryExchange, binaryRequest, splitPackets } from '../../helpers/binary-packets.js';
import { startGateway, type RunningGateway } from '../../helpers/gateway.js';
import { startMemcached, type MemcachedServer } from '../../helpers/memcached-server.js';
import { RawConnection, parseStats } from '../../helpers/raw-connection.js';

type Protocol = 'text' | 'binary';

async function statNames(port: number, protocol: Protocol, group: string): Promise<string[]> {
  const conn = await RawConnection.open(port);
  try {
    if (protocol === 'text') {
      const reply = await conn.request(`stats${group ? ` ${group}` : ''}\r\n`);
      expect(reply, `text stats ${group}`).to.match(/END\r\n$/);
      return [...parseStats(reply).keys()];
    }
    const res = await binaryExchange(conn, binaryRequest({ opcode: Opcode.STAT, key: group, opaque: 7 }));
    const { packets } = splitPackets(res.data);
    expect(packets.at(-1)?.keylen, `binary stat ${group}: terminator`).to.equal(0);
    return packets.slice(0, -1).map((p) => p.key.toString('latin1'));
  } finally {
    await conn.close();
  }
}

/** Slab class numbers made one (memcached has a class per size, memgate one), each name once. */
function classless(names: string[]): string[] {
  return [...new Set(names.map((name) => name.replace(/^items:\d+:/, 'items:N:').replace(/^\d+:/, 'N:')))];
}

async function storeSome(port: number): Promise<void> {
  const conn = await RawConnection.open(port);
  try {
    expect(await conn.request('set names-small 0 0 3\r\nabc\r\n')).to.equal('STORED\r\n');
    expect(await conn.request(`set names-large 0 0 5000\r\n${'x'.repeat(5000)}\r\n`)).to.equal('STORED\r\n');
    expect(await conn.request('get names-small\r\n')).to.match(/^VALUE/);
  } finally {
    await conn.close();
  }
}

describe('differential: stats field names (memcached 1.6.18 vs memgate)', function () {
  this.timeout(60_000);
  let memcached: MemcachedServer;
  let gateway: RunningGateway;

  before(async () => {
    [memcached, gateway] = await Promise.all([startMemcached(), startGateway()]);
    await Promise.all([storeSome(memcached.port), storeSome(gateway.port)]);
  });
  after(async () => {
    await Promise.all([memcached?.stop(), gateway?.stop()]);
  });

  for (const protocol of ['text', 'binary'] as const) {
    it(`${protocol}: stats has every general field of memcached's, in its order, then memgate's own`, async () => {
      const expected = await statNames(memcached.port, protocol, '');
      const actual = await statNames(gateway.port, protocol, '');
      expect(actual.slice(0, expected.length)).to.deep.equal(expected);
      for (const name of actual.slice(expected.length)) expect(name).to.match(/^(db|coalesce|session)_/);
    });

    for (const group of ['items', 'slabs']) {
      it(`${protocol}: stats ${group} has memcached's names, as one slab class`, async () => {
        const expected = classless(await statNames(memcached.port, protocol, group));
        const actual = await statNames(gateway.port, protocol, group);
        expect(expected.length).to.be.greaterThan(2);
        expect(classless(actual)).to.deep.equal(expected);
        const classes = new Set(actual.map((name) => /^(?:items:)?(\d+):/.exec(name)?.[1]).filter(Boolean));
        expect([...classes]).to.deep.equal(['1']);
      });
    }
  }
});
