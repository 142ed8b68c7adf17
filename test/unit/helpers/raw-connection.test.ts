import { expect } from 'chai';
import net from 'node:net';
import { findTrailingVersionLine, parseStats, RawConnection, textReplyEnd } from '../../helpers/raw-connection.js';

/** A tiny scripted server: `onData` gets every chunk and the socket. */
async function withServer(
  onData: (chunk: Buffer, sock: net.Socket, all: Buffer) => void,
  body: (port: number, received: () => Buffer) => Promise<void>,
  onConnection: (sock: net.Socket) => void = () => undefined,
): Promise<void> {
  let all = Buffer.alloc(0);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    onConnection(sock);
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

describe('test helper raw-connection', function () {
  describe('findTrailingVersionLine', function () {
    it('finds a complete trailing VERSION line only', function () {
      expect(findTrailingVersionLine(Buffer.from('VERSION 1.6.18\r\n'))).to.equal(0);
      expect(findTrailingVersionLine(Buffer.from('STORED\r\nVERSION 1.6.18\r\n'))).to.equal(8);
      expect(findTrailingVersionLine(Buffer.from('STORED\r\nVERSION 1.6.18\r'))).to.equal(-1);
      expect(findTrailingVersionLine(Buffer.from('STORED\r\nVERSION 1.6.18\r\nEND\r\n'))).to.equal(-1);
      expect(findTrailingVersionLine(Buffer.from('XVERSION 1\r\n'))).to.equal(-1);
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
          const conn = await RawConnection.open(port);
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
          const conn = await RawConnection.open(port);
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

    it('half-closes with end() and still reads the rest when opened with allowHalfOpen', async function () {
      await withServer(
        () => undefined,
        async (port, received) => {
          const conn = await RawConnection.open(port, { allowHalfOpen: true });
          await conn.send('last words\r\n');
          conn.end();
          const res = await conn.readUntilClose(2000);
          expect(res).to.include({ closed: true, timedOut: false });
          expect(res.data.toString('latin1')).to.equal('ANSWER\r\n');
          expect(received().toString('latin1')).to.equal('last words\r\n');
          expect(conn.error).to.equal(undefined);
          await conn.close();
        },
        (sock) => sock.on('end', () => sock.end('ANSWER\r\n')),
      );
    });

    it('canConnect says whether a port accepts connections, and closes what it opened', async function () {
      let accepted = 0;
      let closed = 0;
      let port = 0;
      await withServer(
        () => undefined,
        async (listening) => {
          port = listening;
          expect(await RawConnection.canConnect(port)).to.equal(true);
          for (let i = 0; i < 100 && closed < 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
          expect([accepted, closed]).to.deep.equal([1, 1]);
        },
        (sock) => {
          accepted++;
          sock.on('close', () => closed++);
        },
      );
      expect(await RawConnection.canConnect(port, { connectTimeoutMs: 1000 })).to.equal(false);
    });

    it('records the socket error that ended the connection', async function () {
      await withServer(
        (_chunk, sock) => sock.resetAndDestroy(),
        async (port) => {
          const conn = await RawConnection.open(port);
          const res = await conn.exchange('boom\r\n', { mode: 'close', timeoutMs: 2000 });
          expect(res.closed).to.equal(true);
          expect(conn.error?.message).to.match(/ECONNRESET/);
          await conn.close();
        },
      );
    });
  });

  describe('textReplyEnd', function () {
    const end = (s: string): number => textReplyEnd(Buffer.from(s, 'latin1'));

    it('ends a reply after one plain line, and waits for the line to complete', function () {
      expect(end('STORED\r\nEND\r\n')).to.equal(8);
      expect(end('STORED\r')).to.equal(-1);
      expect(end('')).to.equal(-1);
    });

    it('runs VALUE blocks up to END, taking their data verbatim', function () {
      const reply = 'VALUE a 0 5\r\nEND\r\n\r\nVALUE b 1 0\r\n\r\nEND\r\n';
      expect(end(`${reply}STORED\r\n`)).to.equal(reply.length);
      expect(end(reply.slice(0, -1))).to.equal(-1);
      expect(end('VALUE a 0 5\r\nEN')).to.equal(-1);
    });

    it('runs STAT lines up to END, and takes a meta VA line with its data block', function () {
      const stats = 'STAT pid 1\r\nSTAT uptime 2\r\nEND\r\n';
      expect(end(`${stats}STORED\r\n`)).to.equal(stats.length);
      expect(end('STAT pid 1\r\n')).to.equal(-1);
      expect(end('VA 2 f5\r\nHD\r\nHD\r\n')).to.equal(13);
      expect(end('VA 2 f5\r\nHD\r')).to.equal(-1);
    });
  });

  describe('reply and request', function () {
    it('read one whole text reply at a time, even when it arrives in pieces', async function () {
      await withServer(
        (chunk, sock) => {
          if (!chunk.toString('latin1').endsWith('\r\n')) return;
          const reply = 'VALUE k 0 2\r\nhi\r\nEND\r\nSTORED\r\n';
          for (let i = 0; i < reply.length; i += 3) sock.write(reply.slice(i, i + 3));
        },
        async (port) => {
          const conn = await RawConnection.open(port);
          try {
            expect(await conn.request('get k\r\n')).to.equal('VALUE k 0 2\r\nhi\r\nEND\r\n');
            expect(await conn.reply()).to.equal('STORED\r\n');
          } finally {
            await conn.close();
          }
        },
      );
    });

    it('throw when the reply does not come in time or the peer closes first', async function () {
      await withServer(
        (chunk, sock) => {
          if (chunk.includes('quit')) sock.end('HALF');
          else sock.write('PARTIAL');
        },
        async (port) => {
          const conn = await RawConnection.open(port);
          try {
            let failure: unknown;
            await conn.request('get k\r\n', 100).catch((err: unknown) => { failure = err; });
            expect(String(failure)).to.match(/timed out waiting for a reply; have "PARTIAL"/);
            failure = undefined;
            await conn.request('quit\r\n', 2000).catch((err: unknown) => { failure = err; });
            expect(String(failure)).to.match(/connection closed while waiting for a reply; have "HALF"/);
          } finally {
            await conn.close();
          }
        },
      );
    });
  });

  describe('parseStats', function () {
    it('maps STAT lines to name and value, and no reply to nothing', function () {
      const stats = parseStats('STAT pid 42\r\nSTAT version 1.6.18 x\r\nEND\r\n');
      expect([...stats]).to.deep.equal([['pid', '42'], ['version', '1.6.18 x']]);
      expect(parseStats(null).size).to.equal(0);
    });
  });
});
