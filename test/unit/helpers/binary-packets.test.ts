import { expect } from 'chai';
import net from 'node:net';
import { Opcode, Status } from '../../../src/protocol/binary/opcodes.js';
import {
  arithmeticExtras,
  binaryExchange,
  binaryResponse,
  binaryRequest,
  describeRequests,
  renderResponses,
  SENTINEL_OPAQUE,
  splitPackets,
  storeExtras,
} from '../../helpers/binary-packets.js';
import { RawConnection } from '../../helpers/raw-connection.js';

const response = binaryResponse;

describe('test helper binary-packets', function () {
  describe('binaryRequest', function () {
    it('lays out header, extras, key and value in network byte order', function () {
      const b = binaryRequest({ opcode: Opcode.SET, key: 'k', extras: storeExtras(0x01020304, 10), value: 'vv', opaque: 0xa1b2c3d4, cas: 0x0102030405060708n });
      expect(b.toString('hex')).to.equal(
        '80' + '01' + '0001' + '08' + '00' + '0000' + '0000000b' + 'a1b2c3d4' + '0102030405060708' + '010203040000000a' + '6b' + '7676',
      );
      expect(arithmeticExtras(1n, 2n, 0xffffffff).toString('hex')).to.equal('0000000000000001' + '0000000000000002' + 'ffffffff');
    });

    it('lets malformed packets override magic and lengths without changing the body', function () {
      const b = binaryRequest({ opcode: Opcode.GET, key: 'abcde', bodylen: 3, keylen: 9, extlen: 2, magic: 0x81 });
      expect(b.length).to.equal(24 + 5);
      expect(b.readUInt8(0)).to.equal(0x81);
      expect(b.readUInt16BE(2)).to.equal(9);
      expect(b.readUInt8(4)).to.equal(2);
      expect(b.readUInt32BE(8)).to.equal(3);
    });
  });

  describe('renderResponses', function () {
    it('masks cas values but keeps zero and non-zero apart', function () {
      const [withCas] = renderResponses(response({ opcode: Opcode.SET, cas: 1234n }));
      const [otherCas] = renderResponses(response({ opcode: Opcode.SET, cas: 99n }));
      const [zero] = renderResponses(response({ opcode: Opcode.SET }));
      expect(withCas).to.equal(otherCas);
      expect(withCas).to.contain('cas=<nonzero>');
      expect(zero).to.contain('cas=0');
      expect(zero).to.not.equal(withCas);
    });

    it('renders status, key, extras and value, and masks only successful Version bodies', function () {
      const lines = renderResponses(
        Buffer.concat([
          response({ opcode: Opcode.GETK, key: 'k\r\n', extras: '\x00\x00\x00\x05', value: 'v\x00', opaque: 7, cas: 1n }),
          response({ opcode: Opcode.VERSION, value: '1.6.18' }),
          response({ opcode: Opcode.VERSION, value: 'Invalid arguments', status: Status.EINVAL }),
        ]),
      );
      expect(lines).to.deep.equal([
        'GETK(0x0c) status=0x0000 SUCCESS keylen=3 extlen=4 bodylen=9 opaque=0x00000007 cas=<nonzero> key="k\\r\\n" extras=00000005 value="v\\x00"',
        'VERSION(0x0b) status=0x0000 SUCCESS keylen=0 extlen=0 bodylen=<n> opaque=0x00000000 cas=0 value=<version>',
        'VERSION(0x0b) status=0x0004 EINVAL keylen=0 extlen=0 bodylen=17 opaque=0x00000000 cas=0 value="Invalid arguments"',
      ]);
    });

    it('collapses only well-formed stats runs', function () {
      const entry = (opaque: number, key = 'pid', value = '1'): Buffer => response({ opcode: Opcode.STAT, key, value, opaque });
      const end = (opaque: number): Buffer => response({ opcode: Opcode.STAT, opaque });
      const collapsed = renderResponses(Buffer.concat([entry(5), entry(5, 'uptime', '10'), end(5), end(6)]));
      expect(collapsed).to.deep.equal(['STATS opaque=0x00000005 (entries masked)', 'STATS opaque=0x00000006 (entries masked)']);
      // a different opaque inside the run, or no terminator: every packet is rendered
      expect(renderResponses(Buffer.concat([entry(5), entry(6), end(5)]))).to.have.length(3);
      expect(renderResponses(Buffer.concat([entry(5), entry(5)]))).to.have.length(2);
    });

    it('renders bytes that are not a complete response packet as hex', function () {
      const full = response({ opcode: Opcode.NOOP });
      const lines = renderResponses(Buffer.concat([full, full.subarray(0, 10)]));
      expect(lines[1]).to.equal(`partial/unparsed 10 bytes: ${full.subarray(0, 10).toString('hex')} "\\x81\\n${'\\x00'.repeat(8)}"`);
      expect(renderResponses(Buffer.from('ERROR\r\n'))).to.deep.equal(['partial/unparsed 7 bytes: 4552524f520d0a "ERROR\\r\\n"']);
    });
  });

  describe('splitPackets / describeRequests', function () {
    it('splits requests and keeps a trailing partial packet apart', function () {
      const a = binaryRequest({ opcode: Opcode.GET, key: 'a', opaque: 1 });
      const { packets, rest } = splitPackets(Buffer.concat([a, a.subarray(0, 5)]), 0x80);
      expect(packets).to.have.length(1);
      expect(packets[0]!.key.toString()).to.equal('a');
      expect(rest).to.have.length(5);
      expect(describeRequests(Buffer.concat([a, Buffer.from('xy')]))).to.equal('GET(0x00) key="a" opaque=0x00000001 | raw(2)=7879');
    });
  });

  describe('binaryExchange', function () {
    /** Answers each 24-byte request header with `reply(header)`, split into 3-byte writes. */
    async function withServer(reply: (req: Buffer) => Buffer, body: (port: number) => Promise<void>): Promise<void> {
      const sockets = new Set<net.Socket>();
      const server = net.createServer((sock) => {
        sockets.add(sock);
        let pending = Buffer.alloc(0);
        sock.on('data', (d: Buffer) => {
          pending = Buffer.concat([pending, d]);
          while (pending.length >= 24) {
            const out = reply(pending.subarray(0, 24));
            pending = pending.subarray(24);
            for (let i = 0; i < out.length; i += 3) sock.write(out.subarray(i, i + 3));
          }
        });
        sock.on('error', () => undefined);
        sock.on('close', () => sockets.delete(sock));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as net.AddressInfo;
      try {
        await body(port);
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }

    const echo = (status: (req: Buffer) => number) => (req: Buffer): Buffer =>
      response({ opcode: req.readUInt8(1), opaque: req.readUInt32BE(12), status: status(req), value: req.readUInt8(1) === Opcode.VERSION ? '1.2.3' : undefined });

    it('reads up to the sentinel reply and drops it when it is a plain success', async function () {
      await withServer(
        echo(() => 0),
        async (port) => {
          const conn = await RawConnection.open(port);
          try {
            const res = await binaryExchange(conn, binaryRequest({ opcode: Opcode.NOOP, opaque: 3 }), { timeoutMs: 2000 });
            expect(res).to.include({ closed: false, timedOut: false });
            expect(renderResponses(res.data)).to.deep.equal(['NOOP(0x0a) status=0x0000 SUCCESS keylen=0 extlen=0 bodylen=0 opaque=0x00000003 cas=0']);
            const v = await binaryExchange(conn, Buffer.alloc(0), { sentinel: 'version', timeoutMs: 2000 });
            expect(v.data).to.have.length(0);
          } finally {
            await conn.close();
          }
        },
      );
    });

    it('keeps a sentinel reply that is an error', async function () {
      await withServer(
        echo((req) => (req.readUInt32BE(12) === SENTINEL_OPAQUE ? Status.AUTH_ERROR : 0)),
        async (port) => {
          const conn = await RawConnection.open(port);
          try {
            const res = await binaryExchange(conn, Buffer.alloc(0), { timeoutMs: 2000 });
            expect(renderResponses(res.data)).to.deep.equal([
              `NOOP(0x0a) status=0x0020 AUTH_ERROR keylen=0 extlen=0 bodylen=0 opaque=0x${SENTINEL_OPAQUE.toString(16)} cas=0`,
            ]);
          } finally {
            await conn.close();
          }
        },
      );
    });

    it('reports a timeout when the sentinel is never answered', async function () {
      await withServer(
        () => Buffer.alloc(0),
        async (port) => {
          const conn = await RawConnection.open(port);
          try {
            const res = await binaryExchange(conn, Buffer.alloc(0), { timeoutMs: 200 });
            expect(res).to.include({ closed: false, timedOut: true });
          } finally {
            await conn.close();
          }
        },
      );
    });
  });
});
