/**
 * The `memgate` command as an operator runs it: a real node process, its exit codes, its
 * messages, a real `serve` over TCP and a graceful SIGTERM.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { startCli, type Exited, type Spawned } from '../helpers/cli.js';
import { findFreePort, freshTableName, getTestDatabaseUrl } from '../helpers/database.js';
import { RawConnection } from '../helpers/raw-connection.js';

const QUICK_EXIT_MS = 5000;

/** A connection to `serve` on `port` once it listens, trying every 100 ms while it runs; undefined if it never does. */
async function openWhenListening(server: Spawned, port: number, attempts: number): Promise<RawConnection | undefined> {
  for (let i = 0; i < attempts && server.child.exitCode === null; i++) {
    const client = await RawConnection.open(port).catch(() => undefined);
    if (client) return client;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
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

  it('with no command prints usage to stderr and exits 2; help and --help print the help to stdout and exit 0', async () => {
    const bare = await startCli([], cwd).exited;
    expect(bare.code).to.equal(2);
    expect(bare.stdout).to.equal('');
    expect(bare.stderr).to.equal('Usage: memgate <serve|schema|sweep> [options]\nmemgate --help describes the commands and every option.\n');
    for (const args of [['help'], ['--help'], ['serve', '--help']]) {
      const run = await startCli(args, cwd).exited;
      expect(run.code, args.join(' ')).to.equal(0);
      expect(run.stderr, args.join(' ')).to.equal('');
      expect(run.stdout, args.join(' ')).to.match(/^Usage: memgate/).and.include('three names');
    }
  });

  it('refuses a boolean that is not true or false, naming the flag and the value', async () => {
    const run = await failsFast(['serve', '--flush-all-enabled', 'maybe']);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.equal('memgate: --flush-all-enabled maybe: not true or false [flushAll.enabled, MEMGATE_FLUSH_ALL_ENABLED]\n');
    const viaEnv = await failsFast(['serve'], { MEMGATE_COALESCE_ENABLED: 'yes' });
    expect(viaEnv.stderr).to.equal('memgate: MEMGATE_COALESCE_ENABLED=yes: not true or false [coalesce.enabled, --coalesce-enabled]\n');
  });

  it('names a bad value as given, by flag, environment or file, with the other two names', async () => {
    expect((await failsFast(['serve', '--port', 'abc'])).stderr).to.equal('memgate: --port abc: not a port (0-65535) [listen.port, MEMGATE_PORT]\n');
    expect((await failsFast(['serve'], { MEMGATE_PORT: 'abc' })).stderr).to.equal('memgate: MEMGATE_PORT=abc: not a port (0-65535) [listen.port, --port]\n');
    const file = path.join(cwd, 'bad-port.json');
    await writeFile(file, JSON.stringify({ listen: { port: 'abc' } }));
    expect((await failsFast(['serve', '--config', file])).stderr).to.equal(`memgate: listen.port in ${file}: not a port (0-65535) [--port, MEMGATE_PORT]\n`);
    expect((await failsFast(['serve', '--prot', '1'])).stderr).to.equal('memgate: unknown option --prot; did you mean --port? (memgate --help lists the options)\n');
  });

  it('a port in use fails with one line naming the address and --port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const run = await startCli(['serve', '--db-url', dbUrl, '--port', String(port), '--table', freshTableName('cli_inuse')], cwd, {}, 30_000).exited;
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr.trimEnd().split('\n').at(-1)).to.equal(`memgate: 127.0.0.1:${port} is in use (another memgate or memcached?); choose another with --port`);
    } finally {
      blocker.close();
    }
  });

  it('stops start-up on a wrong password, an unknown database or an unknown host, naming db.url without the password', async () => {
    const wrongPassword = new URL(dbUrl);
    wrongPassword.password = 'Wr0ngPassw0rd';
    const unknownDatabase = new URL(dbUrl);
    unknownDatabase.pathname = '/no_such_database_here';
    const unknownHost = new URL(dbUrl);
    unknownHost.hostname = 'no-such-host.invalid';
    unknownHost.searchParams.delete('socketPath');
    for (const [url, reason] of [[wrongPassword, 'ER_ACCESS_DENIED_ERROR'], [unknownDatabase, /ER_BAD_DB_ERROR|ER_DBACCESS_DENIED_ERROR/], [unknownHost, /ENOTFOUND|EAI_AGAIN/]] as const) {
      const port = await findFreePort();
      const run = await failsFast(['serve', '--db-url', url.toString(), '--port', String(port)]);
      expect(run.code, run.stderr).to.equal(2);
      const last = run.stderr.trimEnd().split('\n').at(-1)!;
      // (a user without rights on other databases is told "access denied" for one that does not exist)
      expect(last).to.match(/^memgate: cannot use the database at db\.url mysql:\/\/[^ ]*:\*\*\*@/).and.match(typeof reason === 'string' ? new RegExp(reason) : reason);
      expect(last).to.include('[--db-url, MEMGATE_DB_URL]').and.include('--db-wait-at-start');
      expect(run.stderr, 'no listening gateway').to.not.match(/listening/);
      expect(run.stderr + run.stdout).to.not.include('Wr0ngPassw0rd');
      if (dbPassword) expect(run.stderr + run.stdout).to.not.include(dbPassword);
    }
  });

  it('with --db-wait-at-start a wrong password starts anyway, answering SERVER_ERROR and saying why', async () => {
    const wrongPassword = new URL(dbUrl);
    wrongPassword.password = 'Wr0ngPassw0rd';
    const port = await findFreePort();
    const server = startCli(['serve', '--db-url', wrongPassword.toString(), '--port', String(port), '--db-wait-at-start'], cwd, {}, 30_000);
    try {
      const client = await openWhenListening(server, port, 150);
      expect(client, `serve did not listen on ${port}: ${server.output().stderr}`).to.not.equal(undefined);
      expect(await client!.request('get k\r\n')).to.match(/^SERVER_ERROR /);
      await client!.close();
      expect(server.output().stderr).to.match(/warn database unavailable; answering SERVER_ERROR and retrying .*ER_ACCESS_DENIED_ERROR/);
      server.child.kill('SIGTERM');
      const exited = await server.exited;
      expect(exited.code, exited.stderr).to.equal(0);
      expect(exited.stderr + exited.stdout).to.not.include('Wr0ngPassw0rd');
    } finally {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
      await server.exited;
    }
  });

  it('schema --sessions also creates the views of sql/sessions.sql for the table', async () => {
    const table = freshTableName('cli_views');
    const run = await startCli(['schema', '--sessions', '--db-url', dbUrl, '--table', table], cwd, {}, 30_000).exited;
    expect(run.code, run.stderr).to.equal(0);
    const views = [`${table}_php_sessions`, `${table}_php_session_locks`, `${table}_php_memcache_sessions`, `${table}_php_memcache_session_locks`];
    expect(run.stdout).to.equal(`schema applied: table ${table}\nsession views applied: ${views.join(', ')}\n`);
    const connection = await mysql.createConnection(dbUrl);
    try {
      const [rows] = await connection.query('SELECT TABLE_NAME AS name FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE ?', [`${table}\\_%`]);
      expect((rows as Array<{ name: string }>).map((r) => r.name).sort()).to.deep.equal([...views].sort());
      await connection.query(`SELECT * FROM \`${table}_php_sessions\``);
    } finally {
      await connection.end();
    }
  });

  it('on the embedded database: says how to connect with client.cnf, shares it quietly with schema --sessions and sweep, and stops it on SIGTERM', async function () {
    this.timeout(120_000);
    const dataDir = path.join(cwd, 'embedded');
    const port = await findFreePort();
    const args = ['--embedded-data-dir', dataDir, '--embedded-port', String(await findFreePort())];
    const server = startCli(['serve', '--port', String(port), ...args], cwd, {}, 110_000);
    try {
      const client = await openWhenListening(server, port, 900);
      expect(client, `serve did not listen on ${port}: ${server.output().stderr}`).to.not.equal(undefined);
      await client!.close();
      const cnf = path.join(dataDir, 'client.cnf');
      expect(server.output().stderr).to.include(`SQL on the embedded database: mariadb --defaults-file=${cnf} (memgate schema --sessions adds views of PHP sessions)`);
      expect((await stat(cnf)).mode & 0o777).to.equal(0o600);
      const sql = spawnSync('mariadb', [`--defaults-file=${cnf}`, '-N', '-e', 'SELECT DATABASE()'], { encoding: 'utf8' });
      expect(sql.status, sql.stderr).to.equal(0);
      expect(sql.stdout.trim()).to.equal('memgate');

      // Both share the gateway's MariaDB; that is the normal case, so nothing at warn.
      const schema = await startCli(['schema', '--sessions', '--log-level', 'warn', ...args], cwd, {}, 60_000).exited;
      expect(schema.code, schema.stderr).to.equal(0);
      expect(schema.stderr).to.equal('');
      expect(schema.stdout).to.include('session views applied: kv_php_sessions,');
      const sweep = await startCli(['sweep', '--log-level', 'warn', ...args], cwd, {}, 60_000).exited;
      expect(sweep.code, sweep.stderr).to.equal(0);
      expect(sweep.stderr).to.equal('');
      expect(sweep.stdout).to.match(/^deleted 0 rows/);

      const mariadbPid = Number((await readFile(path.join(dataDir, 'mariadbd.pid'), 'utf8')).trim());
      expect(mariadbPid).to.be.greaterThan(0);
      server.child.kill('SIGTERM');
      const exited = await server.exited;
      expect(exited.code, exited.stderr).to.equal(0);
      expect(exited.stderr).to.include('embedded MariaDB stopped');
      expect(() => process.kill(mariadbPid, 0), 'MariaDB is gone').to.throw();
    } finally {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
      await server.exited;
    }
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
    const clients: RawConnection[] = [];
    const lock = await mysql.createConnection(dbUrl);
    try {
      // Up: the port accepts, and the table (made in the background) is there.
      const client = await openWhenListening(server, port, 150);
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
      await client!.send('incr counter 5\r\n');
      // (The test database's user may not read information_schema.INNODB_TRX, so give the
      // gateway a moment to reach the database; the reply cannot come while the lock is held.)
      expect((await client!.readFor(300)).data.toString('latin1'), 'the incr is blocked on the row lock').to.equal('');

      // another client connected but idle must not hold the shutdown up
      const idle = await RawConnection.open(port);
      clients.push(idle);
      expect(await idle.request('version\r\n')).to.match(/^VERSION /);

      server.child.kill('SIGTERM');
      const meanwhile = await client!.readFor(500);
      expect(server.child.exitCode, 'still running while a request is in flight').to.equal(null);
      expect(meanwhile.data.toString('latin1'), 'no reply yet').to.equal('');
      expect(await RawConnection.canConnect(port, { connectTimeoutMs: 1000 }), 'no new connections once stopping').to.equal(false);

      await lock.query('ROLLBACK');
      const releasedAt = Date.now();
      expect(await client!.reply(5000), 'in-flight reply').to.equal('6\r\n');

      const exited = await server.exited;
      expect(exited.signal, exited.stderr).to.equal(null);
      expect(exited.code, exited.stderr).to.equal(0);
      expect(Date.now() - releasedAt, 'exits promptly once the in-flight request is done').to.be.below(3000);
      expect(idle.isClosed, 'the idle client was disconnected').to.equal(true);
      const rest = await client!.readUntilClose(2000);
      expect(rest.closed, 'the server closed the client connection').to.equal(true);
      expect(rest.data.toString('latin1'), 'nothing after the in-flight reply').to.equal('');
      expect(await RawConnection.canConnect(port, { connectTimeoutMs: 1000 }), 'port closed after exit').to.equal(false);
      expect(exited.stderr).to.match(/listening/);
      if (dbPassword) expect(exited.stdout + exited.stderr, 'the password never appears in the output').to.not.include(dbPassword);

      // The increment the gateway finished during shutdown is in the database.
      const [rows] = await lock.query(`SELECT string_value AS v FROM \`${table}\` WHERE mkey = ?`, [Buffer.from('counter')]);
      expect(String((rows as Array<{ v: Buffer }>)[0]!.v)).to.equal('6');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await lock.end().catch(() => undefined);
      if (server.child.exitCode === null && server.child.signalCode === null) {
        server.child.kill('SIGKILL');
        await server.exited;
      }
    }
  });
});
