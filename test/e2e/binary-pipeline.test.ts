import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { Opcode } from '../../src/protocol/binary/opcodes.js';
import { binaryRequest, findResponse, splitPackets, storeExtras } from '../helpers/binary-packets.js';
import { getTestDatabaseUrl, statementsExecuted } from '../helpers/database.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { RawConnection } from '../helpers/raw-connection.js';

interface Reply { opcode: number; status: number; opaque: number; key: string; value: string }

/** Writes everything at once and reads replies until the reply to the last packet (a NOOP). */
async function pipeline(port: number, data: Buffer, lastOpaque: number): Promise<Reply[]> {
  const conn = await RawConnection.open(port);
  try {
    await conn.send(data);
    const res = await conn.readUntil((buf) => findResponse(buf, (p) => p.opaque === lastOpaque)?.end ?? -1, 5000);
    const replies = splitPackets(res.data).packets.map((p) => ({
      opcode: p.opcode, status: p.status, opaque: p.opaque, key: p.key.toString(), value: p.value.toString(),
    }));
    if (res.closed || res.timedOut) throw new Error(`no NOOP reply; got ${replies.length} replies`);
    return replies;
  } finally {
    await conn.close();
  }
}

describe('e2e: pipelined binary gets', function () {
  this.timeout(30_000);
  let gateway: RunningGateway;
  let db: mysql.Connection;

  before(async () => {
    gateway = await startGateway();
    db = await mysql.createConnection(await getTestDatabaseUrl());
  });

  after(async () => {
    await db?.end();
    await gateway?.stop();
  });

  const executed = () => statementsExecuted(db);

  it('answers a run of GETKQ…NOOP with the hits only, in order, from one database query', async () => {
    const stored = Array.from({ length: 60 }, (_, i) => `pipe-${i}`);
    const setqs = stored.map((key, i) => binaryRequest({ opcode: Opcode.SETQ, key, opaque: i, extras: storeExtras(0, 0), value: `value-${i}` }));
    const noop = binaryRequest({ opcode: Opcode.NOOP, opaque: 9999 });
    expect(await pipeline(gateway.port, Buffer.concat([...setqs, noop]), 9999)).to.deep.equal([
      { opcode: Opcode.NOOP, status: 0, opaque: 9999, key: '', value: '' },
    ]);

    // every other requested key is missing
    const requested = Array.from({ length: 120 }, (_, i) => (i % 2 === 0 ? `pipe-${i / 2}` : `missing-${i}`));
    const getkqs = requested.map((key, i) => binaryRequest({ opcode: Opcode.GETKQ, key, opaque: 1000 + i }));
    const before = await executed();
    const replies = await pipeline(gateway.port, Buffer.concat([...getkqs, noop]), 9999);
    const statements = (await executed()) - before;

    expect(replies.map((r) => [r.opaque, r.key, r.value])).to.deep.equal([
      ...stored.map((key, i) => [1000 + 2 * i, key, `value-${i}`]),
      [9999, '', ''],
    ]);
    expect(statements, 'statements executed for 120 quiet gets').to.equal(1);
  });
});
