import { expect } from 'chai';
import net from 'node:net';
import {
  findTrailingVersionLine,
  maskTextReply,
  RawConnection,
  render,
} from '../../helpers/socket-exchange.js';

/** A tiny scripted server: `onData` gets every chunk and the socket. */
async function withServer(
  onData: (chunk: Buffer, sock: net.Socket, all: Buffer) => void,
  body: (port: number, received: () => Buffer) => Promise<void>,
): Promise<void> {
  let all = Buffer.alloc(0);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('data', (d: Buffer) => {
      all = Buffer.concat([all, d]);
      onData(d, sock, all);
    });
    sock.on('error', () => undefined);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    await body(port, () => all);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('test helper socket-exchange', function () {
  describe('findTrailingVersionLine', function () {
    it('finds a complete trailing VERSION line only', function () {
      expect(findTrailingVersionLine(Buffer.from('VERSION 1.6.18\r\n'))).to.equal(0);
      expect(findTrailingVersionLine(Buffer.from('STORED\r\nVERSION 1.6.18\r\n'))).to.equal(8);
      expect(findTrailingVersionLine(Buffer.from('STORED\r\nVERSION 1.6.18\r'))).to.equal(-1);
      expect(findTrailingVersionLine(Buffer.from('STORED\r\nVERSION 1.6.18\r\nEND\r\n'))).to.equal(-1);
      expect(findTrailingVersionLine(Buffer.from('XVERSION 1\r\n'))).to.equal(-1);
    });
  });

  describe('maskTextReply', function () {
    it('masks cas uniques and VERSION lines but copies value data verbatim', function () {
      const data = 'END\r\nVALUE x 0 1 99\r\nVERSION 9\r\n';
      const reply = Buffer.from(
        `VALUE k 5 ${data.length} 12345\r\n${data}\r\nVALUE j 0 1\r\nz\r\nEND\r\nVERSION 1.6.18\r\n`,
        'latin1',
      );
      const { masked, cas } = maskTextReply(reply);
      expect(masked.toString('latin1')).to.equal(
        `VALUE k 5 ${data.length} <cas>\r\n${data}\r\nVALUE j 0 1\r\nz\r\nEND\r\nVERSION <version>\r\n`,
      );
      expect([...cas]).to.deep.equal([['k', '12345']]);
    });

    it('handles keys with control characters and truncated replies', function () {
      const { masked, cas } = maskTextReply(Buffer.from('VALUE a\x01\rb 0 2 7\r\nx', 'latin1'));
      expect(masked.toString('latin1')).to.equal('VALUE a\x01\rb 0 2 <cas>\r\nx');
      expect(cas.get('a\x01\rb')).to.equal('7');
    });
  });

  describe('render', function () {
    it('escapes non-printables and compresses long runs losslessly', function () {
      expect(render(Buffer.from('a\r\n\x00\\{', 'latin1'))).to.equal('a\\r\\n\\x00\\\\\\x7b');
      expect(render(Buffer.from('x'.repeat(17)))).to.equal('{x*17}');
      expect(render(Buffer.from('x'.repeat(16)))).to.equal('x'.repeat(16));
    });
  });

  describe('RawConnection', function () {
    it('returns the bytes before the VERSION sentinel, even when replies arrive in pieces', async function () {
      await withServer(
        (_chunk, sock, all) => {
          if (all.toString('latin1').endsWith('version\r\n')) {
            const reply = 'STORED\r\nVERSION 1.6.18\r\n';
            // dribble the reply byte by byte
            let i = 0;
            const timer = setInterval(() => {
              if (i >= reply.length || sock.destroyed) {
                clearInterval(timer);
                return;
              }
              sock.write(reply[i]!);
              i++;
            }, 1);
          }
        },
        async (port, received) => {
          const conn = await RawConnection.open('127.0.0.1', port);
          const res = await conn.exchange('set k 0 0 1\r\nx\r\n', { chunkSize: 2 });
          await conn.close();
          expect(res.data.toString('latin1')).to.equal('STORED\r\n');
          expect(res.versionLine).to.equal('VERSION 1.6.18');
          expect(res.closed).to.equal(false);
          expect(res.timedOut).to.equal(false);
          expect(received().toString('latin1')).to.equal('set k 0 0 1\r\nx\r\nversion\r\n');
        },
      );
    });

    it('reports closed when the peer closes, and timedOut when nothing comes', async function () {
      await withServer(
        (chunk, sock) => {
          if (chunk.includes('quit')) sock.end('BYE\r\n');
        },
        async (port) => {
          const conn = await RawConnection.open('127.0.0.1', port);
          const silent = await conn.exchange('hello\r\n', { timeoutMs: 100 });
          expect(silent).to.include({ closed: false, timedOut: true });
          const quiet = await conn.exchange('still nothing\r\n', { mode: 'quiet', quietMs: 50 });
          expect(quiet).to.include({ closed: false, timedOut: false });
          const res = await conn.exchange('quit\r\n', { mode: 'close', timeoutMs: 2000 });
          expect(res.data.toString('latin1')).to.equal('BYE\r\n');
          expect(res).to.include({ closed: true, timedOut: false });
          expect(conn.isClosed).to.equal(true);
          await conn.close();
          await conn.close();
        },
      );
    });
  });
});
