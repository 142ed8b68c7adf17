/**
 * listen.socket: the gateway on a unix-domain socket, beside TCP or alone, with the file's mode,
 * a stale file from a killed gateway, a file that is someone else's, and PHP's two session
 * handlers given the socket in session.save_path.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/config/load-config.js';
import { findFreePort, freshTableName, getTestDatabaseUrl } from '../helpers/database.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { RawConnection } from '../helpers/raw-connection.js';
import { expectOk, readSession } from './php-sessions/workloads.js';
import { GatewayProcess, newSessionId, requirePhpExtensions, runPhp, type PhpSettings } from './php-sessions/harness.js';

describe('e2e: unix socket (listen.socket)', function () {
  this.timeout(60_000);
  let dir: string;
  const gateways: RunningGateway[] = [];
  const start = async (listen: Record<string, unknown>): Promise<RunningGateway> => {
    const gateway = await startGateway({ config: { listen } });
    gateways.push(gateway);
    return gateway;
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-sock-'));
  });

  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  it('serves on the socket and on TCP at once, with the mode asked for; the file goes on stop', async () => {
    const socket = path.join(dir, 'memgate.sock');
    const gateway = await start({ socket, socketMode: '660' });
    expect((await stat(socket)).mode & 0o777).to.equal(0o660);
    const viaSocket = await RawConnection.open(0, { path: socket });
    const viaTcp = await RawConnection.open(gateway.port);
    try {
      expect(await viaSocket.request('set sock-key 5 0 2\r\nhi\r\n')).to.equal('STORED\r\n');
      expect(await viaTcp.request('get sock-key\r\n')).to.equal('VALUE sock-key 5 2\r\nhi\r\nEND\r\n');
      const settings = await viaSocket.request('stats settings\r\n');
      expect(settings).to.include(`STAT domain_socket ${socket}\r\n`).and.include('STAT umask 660\r\n');
    } finally {
      await viaSocket.close();
      await viaTcp.close();
    }
    await gateways.pop()!.stop();
    await expectGone(socket);
  });

  it('with listen.tcp false listens on the socket only', async () => {
    const socket = path.join(dir, 'only.sock');
    const port = await findFreePort();
    const gateway = await start({ socket, tcp: false, port });
    expect(gateway.port).to.equal(0);
    expect(await RawConnection.canConnect(port)).to.equal(false);
    const conn = await RawConnection.open(0, { path: socket });
    try {
      expect(await conn.request('version\r\n')).to.match(/^VERSION /);
    } finally {
      await conn.close();
    }
  });

  it('refuses to start with neither TCP nor a socket', async () => {
    const error = await start({ tcp: false }).then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.include('nothing to listen on').and.include('--socket');
  });

  it('replaces a socket file that nothing listens on (its process is gone)', async () => {
    const socket = path.join(dir, 'stale.sock');
    // A socket bound by a process that is gone: the file stays, a connect is refused.
    execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', socket]);
    expect((await stat(socket)).isSocket()).to.equal(true);
    expect(await RawConnection.canConnect(0, { path: socket })).to.equal(false);
    await start({ socket });
    const conn = await RawConnection.open(0, { path: socket });
    try {
      expect(await conn.request('version\r\n')).to.match(/^VERSION /);
    } finally {
      await conn.close();
    }
  });

  it('a gateway killed with SIGKILL leaves its socket file; started again, it replaces it; SIGTERM removes it', async () => {
    const socket = path.join(dir, 'killed.sock');
    const args = ['--db-url', await getTestDatabaseUrl(), '--table', freshTableName('sock'), '--socket', socket, '--tcp', 'false'];
    const gateway = new GatewayProcess(await findFreePort(), args, dir);
    try {
      await gateway.start();
      await gateway.kill('SIGKILL');
      expect((await stat(socket)).isSocket(), 'the killed gateway\'s file').to.equal(true);
      await gateway.start();
      const conn = await RawConnection.open(0, { path: socket });
      try {
        expect(await conn.request('version\r\n')).to.match(/^VERSION /);
      } finally {
        await conn.close();
      }
      await gateway.kill('SIGTERM');
      await expectGone(socket);
    } finally {
      await gateway.kill();
    }
  });

  it('refuses to start on a socket a live server answers on, and leaves that server alone', async () => {
    const socket = path.join(dir, 'live.sock');
    const other = net.createServer((s) => {
      // The gateway's probe connects and hangs up at once.
      s.on('error', () => undefined);
      s.end('other\r\n');
    });
    await new Promise<void>((resolve) => other.listen(socket, resolve));
    try {
      const error = await start({ socket }).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as Error).message).to.include('already listening').and.include('--socket');
      const conn = await RawConnection.open(0, { path: socket });
      try {
        expect((await conn.readUntilClose(3000)).data.toString()).to.equal('other\r\n');
      } finally {
        await conn.close();
      }
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it('refuses to start on a path that is not a socket, and leaves the file alone', async () => {
    const file = path.join(dir, 'notes.txt');
    await writeFile(file, 'keep me');
    const error = await start({ socket: file }).then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.include('not a socket');
    expect(await readFile(file, 'utf8')).to.equal('keep me');
  });

  describe('PHP sessions over the socket', () => {
    let socket: string;

    beforeEach(async () => {
      await requirePhpExtensions();
      socket = path.join(dir, 'php.sock');
      await start({ socket, tcp: false });
    });

    // php-memcached takes a path (libmemcached's server list syntax); pecl memcache a unix:// URL.
    const handlers: Array<[string, () => PhpSettings]> = [
      ['php-memcached, binary protocol (save_path /path/to.sock)', () => ({ 'session.save_handler': 'memcached', 'session.save_path': socket })],
      ['php-memcached, text protocol', () => ({ 'session.save_handler': 'memcached', 'session.save_path': socket, 'memcached.sess_binary_protocol': 0 })],
      ['pecl memcache (save_path unix:///path/to.sock)', () => ({ 'session.save_handler': 'memcache', 'session.save_path': `unix://${socket}`, 'memcache.session_redundancy': 1 })],
    ];
    for (const [name, settings] of handlers) {
      it(`${name}: a session written in one request is read in the next`, async () => {
        const sid = newSessionId('sock');
        expectOk(await runPhp(settings(), { action: 'incr', sid, marker: 'a' }), 'first request');
        expectOk(await runPhp(settings(), { action: 'incr', sid, marker: 'b' }), 'second request');
        expect(await readSession(settings(), sid)).to.deep.equal({ n: 2, markers: 'a,b,' });
      });
    }
  });
});

async function expectGone(file: string): Promise<void> {
  const error = await stat(file).then(() => null, (e: NodeJS.ErrnoException) => e);
  expect(error?.code, `${file} still exists`).to.equal('ENOENT');
}
