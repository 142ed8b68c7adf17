import { expect } from 'chai';
import mysql from 'mysql2/promise';
import net from 'node:net';
import { getTestDatabaseUrl, statementsExecuted } from '../helpers/database.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';

function packet(opcode: number, key: string, opaque: number, extras = Buffer.alloc(0), value = ''): Buffer {
  const k = Buffer.from(key);
  const v = Buffer.from(value);
  const header = Buffer.alloc(24);
  header[0] = 0x80;
  header[1] = opcode;
  header.writeUInt16BE(k.length, 2);
  header[4] = extras.length;
  header.writeUInt32BE(extras.length + k.length + v.length, 8);
  header.writeUInt32BE(opaque, 12);
  return Buffer.concat([header, extras, k, v]);
}

interface Reply { opcode: number; status: number; opaque: number; key: string; value: string }

/** Writes everything at once and reads replies until the reply to the last packet (a NOOP). */
function pipeline(port: number, data: Buffer, lastOpaque: number): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data));
    const replies: Reply[] = [];
    let buffer = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error(`no NOOP reply; got ${replies.length} replies`)), 5000);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 24 && buffer.length >= 24 + buffer.readUInt32BE(8)) {
        const end = 24 + buffer.readUInt32BE(8);
        const keyStart = 24 + buffer[4]!;
        const keyEnd = keyStart + buffer.readUInt16BE(2);
        const reply = {
          opcode: buffer[1]!, status: buffer.readUInt16BE(6), opaque: buffer.readUInt32BE(12),
          key: buffer.subarray(keyStart, keyEnd).toString(), value: buffer.subarray(keyEnd, end).toString(),
        };
        replies.push(reply);
        buffer = buffer.subarray(end);
        if (reply.opaque === lastOpaque) {
          clearTimeout(timer);
          socket.destroy();
          resolve(replies);
        }
      }
    });
  });
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
    const setqs = stored.map((key, i) => packet(0x11, key, i, Buffer.alloc(8), `value-${i}`));
    const noop = packet(0x0a, '', 9999);
    expect(await pipeline(gateway.port, Buffer.concat([...setqs, noop]), 9999)).to.deep.equal([
      { opcode: 0x0a, status: 0, opaque: 9999, key: '', value: '' },
    ]);

    // every other requested key is missing
    const requested = Array.from({ length: 120 }, (_, i) => (i % 2 === 0 ? `pipe-${i / 2}` : `missing-${i}`));
    const getkqs = requested.map((key, i) => packet(0x0d, key, 1000 + i));
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
