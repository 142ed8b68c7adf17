/**
 * The `memgate` command as an operator runs it: a real node process, its exit codes, its
 * messages, a real `serve` over TCP and a graceful SIGTERM.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { startCli, type Exited } from '../helpers/cli.js';
import { findFreePort, freshTableName, getTestDatabaseUrl } from '../helpers/database.js';

const QUICK_EXIT_MS = 5000;

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 1000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/** A client connection that collects what the server sends and notices when it closes. */
class Client {
  received = '';
  closed = false;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.received += chunk;
      this.notify();
    });
    const end = () => {
      this.closed = true;
      this.notify();
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  static open(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new Client(socket));
      });
    });
  }

  private notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Waits until `done(received)` holds or the connection closes; bounded. */
  async waitFor(done: (received: string) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.received)) {
      if (this.closed) return false;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  async request(line: string, timeoutMs = 5000): Promise<string> {
    const before = this.received.length;
    this.socket.write(line);
    const ok = await this.waitFor((r) => r.length > before && r.endsWith('\r\n'), timeoutMs);
    if (!ok) throw new Error(`no reply to ${JSON.stringify(line)}; got ${JSON.stringify(this.received.slice(before))}`);
    return this.received.slice(before);
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('e2e: memgate command line', function () {
  this.timeout(60_000);
  let cwd: string;
  let dbUrl: string;
  let dbPassword: string;

  before(async () => {
    // A scratch working directory: nothing a run might create (.memgate/...) lands in the project.
    cwd = await mkdtemp(path.join(os.tmpdir(), 'memgate-cli-'));
    dbUrl = await getTestDatabaseUrl();
    dbPassword = decodeURIComponent(new URL(dbUrl).password);
  });

  after(async () => {
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  /** Runs a command that must fail fast on its configuration; never lets it reach a database. */
  async function failsFast(args: string[], env: Record<string, string> = {}): Promise<Exited> {
    const run = await startCli([...args, '--embedded-data-dir', path.join(cwd, 'must-not-exist')], cwd, env, QUICK_EXIT_MS + 5000).exited;
    expect(run.signal, `memgate ${args.join(' ')} was still running after ${QUICK_EXIT_MS + 5000} ms`).to.equal(null);
    expect(run.code, `exit code of memgate ${args.join(' ')}; stderr: ${run.stderr}`).to.not.equal(0);
    expect(run.ms, `memgate ${args.join(' ')} took ${run.ms} ms to fail`).to.be.below(QUICK_EXIT_MS);
    return run;
  }

  it('--help exits 0 and lists --host, --port and --db-url', async () => {
    const run = await startCli(['--help'], cwd).exited;
    expect(run.code, run.stderr).to.equal(0);
    for (const flag of ['--host', '--port', '--db-url', 'serve', 'schema']) expect(run.stdout).to.include(flag);
  });

  it('serve --port 99999 fails naming the setting', async () => {
    const run = await failsFast(['serve', '--port', '99999']);
    expect(run.stderr).to.match(/listen\.port|--port/);
  });

  it('serve --db-url nonsense fails naming db.url', async () => {
    const run = await failsFast(['serve', '--db-url', 'nonsense']);
    expect(run.stderr).to.include('db.url');
  });

  it('serve --bogus fails naming the unknown option', async () => {
    const run = await failsFast(['serve', '--bogus']);
    expect(run.stderr).to.include('--bogus');
  });

  it('serve --sasl-password-file with a missing or empty file fails naming sasl.passwordFile', async () => {
    const missing = await failsFast(['serve', '--sasl-password-file', path.join(cwd, 'no-such-file')]);
    expect(missing.stderr).to.include('sasl.passwordFile');
    const empty = path.join(cwd, 'empty-users');
    await writeFile(empty, '# nobody\n');
    const run = await failsFast(['serve', '--sasl-password-file', empty]);
    expect(run.stderr).to.include('sasl.passwordFile').and.include('no username:password lines');
  });

  it('MEMGATE_PORT=abc fails naming the setting', async () => {
    const run = await failsFast(['serve'], { MEMGATE_PORT: 'abc' });
    expect(run.stderr).to.match(/listen\.port|MEMGATE_PORT/);
  });

  it('a bad configuration never prints the password of the db url', async () => {
    const secret = 'Sup3rS3cretPw';
    for (const args of [
      ['serve', '--db-url', `mysql://memgate:${secret}@127.0.0.1:3306`], // no database in the path
      ['serve', '--db-url', `mysql://memgate:${secret}@127.0.0.1:notaport/memgate`],
      ['serve', '--db-url', `mysql://memgate:${secret}@127.0.0.1:3306/memgate`, '--port', '99999'],
    ]) {
      const run = await failsFast(args);
      expect(run.stderr + run.stdout, args.join(' ')).to.not.include(secret);
    }
    const viaEnv = await failsFast(['serve'], { MEMGATE_DB_URL: `mysql://memgate:${secret}@127.0.0.1:3306`, MEMGATE_PORT: '99999' });
    expect(viaEnv.stderr + viaEnv.stdout).to.not.include(secret);
  });

  it('schema --db-url --table creates the table', async () => {
    const table = freshTableName('cli_schema');
    const run = await startCli(['schema', '--db-url', dbUrl, '--table', table, '--log-level', 'debug'], cwd, {}, 30_000).exited;
    expect(run.code, run.stderr).to.equal(0);
    if (dbPassword) expect(run.stdout + run.stderr, 'the password never appears in the output').to.not.include(dbPassword);
    const connection = await mysql.createConnection(dbUrl);
    try {
      const [rows] = await connection.query('SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [table]);
      expect((rows as Array<{ name: string }>).map((r) => r.name).sort()).to.deep.equal(['accessed_at', 'cas_value', 'expiry', 'flags', 'item_state', 'mkey', 'string_value']);
    } finally {
      await connection.end();
    }
  });

  it('serve answers version, and on SIGTERM finishes the request in flight, exits 0 and closes the port', async () => {
    const port = await findFreePort();
    const table = freshTableName('cli_serve');
    const server = startCli(['serve', '--db-url', dbUrl, '--port', String(port), '--table', table, '--log-level', 'debug'], cwd, {}, 45_000);
    const clients: Client[] = [];
    const lock = await mysql.createConnection(dbUrl);
    try {
      // Up: the port accepts, and the table (made in the background) is there.
      let client: Client | undefined;
      for (let i = 0; i < 150 && !client; i++) {
        if (server.child.exitCode !== null) break;
        client = await Client.open(port).catch(() => undefined);
        if (!client) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(client, `serve did not listen on ${port}: ${server.output().stderr}`).to.not.equal(undefined);
      clients.push(client!);
      expect(await client!.request('version\r\n')).to.match(/^VERSION 1\.6\.18-memgate-\S+\r\n$/);
      let probe = '';
      for (let i = 0; i < 100; i++) {
        probe = await client!.request('get probe\r\n');
        if (probe === 'END\r\n') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(probe).to.equal('END\r\n');
      expect(await client!.request('set counter 0 0 1\r\n1\r\n')).to.equal('STORED\r\n');

      // Hold the counter's row lock from SQL, so the incr below stays in flight in the gateway.
      await lock.query('START TRANSACTION');
      await lock.query(`SELECT * FROM \`${table}\` WHERE mkey = ? FOR UPDATE`, [Buffer.from('counter')]);
      const before = client!.received.length;
      client!.socket.write('incr counter 5\r\n');
      // (The test database's user may not read information_schema.INNODB_TRX, so give the
      // gateway a moment to reach the database; the reply cannot come while the lock is held.)
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(client!.received.length, 'the incr is blocked on the row lock').to.equal(before);

      // another client connected but idle must not hold the shutdown up
      const idle = await Client.open(port);
      clients.push(idle);
      expect(await idle.request('version\r\n')).to.match(/^VERSION /);

      server.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(server.child.exitCode, 'still running while a request is in flight').to.equal(null);
      expect(client!.received.length, 'no reply yet').to.equal(before);
      expect(await canConnect(port), 'no new connections once stopping').to.equal(false);

      await lock.query('ROLLBACK');
      const releasedAt = Date.now();
      const answered = await client!.waitFor((r) => r.length > before && r.endsWith('\r\n'), 5000);
      expect(answered, `in-flight reply; got ${JSON.stringify(client!.received.slice(before))}`).to.equal(true);
      expect(client!.received.slice(before)).to.equal('6\r\n');

      const exited = await server.exited;
      expect(exited.signal, exited.stderr).to.equal(null);
      expect(exited.code, exited.stderr).to.equal(0);
      expect(Date.now() - releasedAt, 'exits promptly once the in-flight request is done').to.be.below(3000);
      expect(idle.closed, 'the idle client was disconnected').to.equal(true);
      await client!.waitFor(() => false, 2000);
      expect(client!.closed, 'the server closed the client connection').to.equal(true);
      expect(await canConnect(port), 'port closed after exit').to.equal(false);
      expect(exited.stderr).to.match(/listening/);
      if (dbPassword) expect(exited.stdout + exited.stderr, 'the password never appears in the output').to.not.include(dbPassword);

      // The increment the gateway finished during shutdown is in the database.
      const [rows] = await lock.query(`SELECT string_value AS v FROM \`${table}\` WHERE mkey = ?`, [Buffer.from('counter')]);
      expect(String((rows as Array<{ v: Buffer }>)[0]!.v)).to.equal('6');
    } finally {
      for (const c of clients) c.close();
      await lock.end().catch(() => undefined);
      if (server.child.exitCode === null && server.child.signalCode === null) {
        server.child.kill('SIGKILL');
        await server.exited;
      }
    }
  });
});
