/**
 * `memgate sweep` as cron runs it: a separate process, its exit codes and its one-line
 * summary, against the test MariaDB, alone and while clients write through a gateway.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { schemaStatements } from '../../src/store/schema.js';
import { startCli, type Exited } from '../helpers/cli.js';
import { findFreePort, freshTableName, getTestDatabaseUrl } from '../helpers/database.js';
import { startGateway } from '../helpers/gateway.js';
import { seedRows } from '../../bench/seed.js';
import { RawConnection } from '../helpers/raw-connection.js';

const EXPIRED = 'UNIX_TIMESTAMP() - 1 - n MOD 3600';
const SUMMARY = /^deleted (\d+) rows in (\d+) batches in \d+\.\d s \((\d+) rows\/s\)\n$/;

describe('e2e: memgate sweep', function () {
  this.timeout(60_000);
  let cwd: string;
  let dbUrl: string;
  let connection: mysql.Connection;
  let table: string;

  const sql = async (text: string, params: unknown[] = []) => (await connection.query(text, params))[0];
  const count = async (where = '1') =>
    Number((await sql(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE ${where}`) as Array<{ n: number | string }>)[0]!.n);
  const sweep = (args: string[] = [], killAfterMs = 30_000): Promise<Exited> =>
    startCli(['sweep', '--db-url', dbUrl, '--table', table, ...args], cwd, {}, killAfterMs).exited;

  before(async () => {
    cwd = await mkdtemp(path.join(os.tmpdir(), 'memgate-sweep-'));
    dbUrl = await getTestDatabaseUrl();
    connection = await mysql.createConnection(dbUrl);
  });

  beforeEach(async () => {
    table = freshTableName('cli_sweep');
    for (const statement of await schemaStatements('innodb', table)) await connection.query(statement);
  });

  afterEach(async () => {
    await sql(`DROP TABLE IF EXISTS \`${table}\``);
  });

  after(async () => {
    await connection?.end();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  it('deletes the expired rows, keeps the live ones, prints one summary line and exits 0', async () => {
    await seedRows(sql, table, { prefix: 'dead:', count: 3_000, expirySql: `IF(n MOD 7 = 0, 1, ${EXPIRED})` });
    await seedRows(sql, table, { prefix: 'live:', count: 500, expirySql: 'IF(n MOD 2 = 0, 0, UNIX_TIMESTAMP() + 3600)' });
    const run = await sweep(['--sweep-batch-size', '1000', '--sweep-pause-ms', '0']);
    expect(run.code, run.stderr).to.equal(0);
    const [, deleted, batches] = SUMMARY.exec(run.stdout) ?? expect.fail(`summary line: ${JSON.stringify(run.stdout)}`);
    expect([Number(deleted), Number(batches)]).to.deep.equal([3_000, 3]);
    expect(await count('expiry <> 0 AND expiry <= UNIX_TIMESTAMP()')).to.equal(0);
    expect(await count()).to.equal(500);

    const again = await sweep();
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.match(/^deleted 0 rows in 0 batches in \d+\.\d s \(0 rows\/s\)\n$/);
  });

  it('on SIGTERM ends after the batch in flight, prints the summary, exits 0 and frees the lease', async () => {
    await seedRows(sql, table, { prefix: 'dead:', count: 20_000, expirySql: EXPIRED });
    const run = startCli(['sweep', '--db-url', dbUrl, '--table', table, '--sweep-batch-size', '100', '--sweep-pause-ms', '300'], cwd);
    for (let i = 0; i < 100 && (await count()) === 20_000; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    run.child.kill('SIGTERM');
    const exited = await run.exited;
    expect(exited.code, exited.stderr).to.equal(0);
    const [, deleted] = /^deleted (\d+) rows .*; stopped by a signal\n$/.exec(exited.stdout) ?? expect.fail(exited.stdout);
    expect(Number(deleted)).to.be.above(0).and.below(20_000);
    expect(await count()).to.equal(20_000 - Number(deleted));
    const lease = await sql('SELECT CAST(expires_at AS SIGNED) - UNIX_TIMESTAMP() AS secondsLeft FROM memgate_lease WHERE name = ?', [`sweep:${table}`]) as Array<{ secondsLeft: number | string }>;
    expect(Number(lease[0]!.secondsLeft), 'lease given back').to.be.at.most(0);
  });

  it('--dry-run prints what would go and deletes nothing', async () => {
    await seedRows(sql, table, { prefix: 'dead:', count: 1_200, expirySql: EXPIRED });
    await seedRows(sql, table, { prefix: 'live:', count: 100, expirySql: '0' });
    const run = await sweep(['--dry-run', '--sweep-batch-size', '500']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^would delete 1200 rows in 3 batches in \d+\.\d s \(\d+ rows\/s\); dry run, nothing deleted\n$/);
    expect(await count()).to.equal(1_300);
  });

  it('exits 0 without deleting when another sweeper holds the lease, and says which', async () => {
    await seedRows(sql, table, { prefix: 'dead:', count: 100, expirySql: EXPIRED });
    await sql('INSERT INTO memgate_lease (name, holder, expires_at) VALUES (?, ?, UNIX_TIMESTAMP() + 120) ON DUPLICATE KEY UPDATE holder = VALUES(holder), expires_at = VALUES(expires_at)',
      [`sweep:${table}`, 'cron-host-b:4242:abcd']);
    const run = await sweep();
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^skipped: another sweeper holds the lease \(cron-host-b:4242:abcd, 1[12]\d s left\)\n$/);
    expect(await count()).to.equal(100);
  });

  it('exits 1 with the reason when the database refuses connections', async () => {
    const port = await findFreePort();
    const run = await startCli(['sweep', '--db-url', `mysql://memgate:pw@127.0.0.1:${port}/memgate`], cwd).exited;
    expect(run.code).to.equal(1);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.match(/^memgate sweep: database unavailable \(ECONNREFUSED/m);
  });

  it('exits 1 with the reason on a wrong password, never printing the password', async () => {
    const url = new URL(dbUrl);
    url.password = 'Wr0ngPassw0rd';
    const run = await startCli(['sweep', '--db-url', url.toString(), '--table', table], cwd).exited;
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/^memgate sweep: database unavailable \(.*Access denied/m);
    expect(run.stdout + run.stderr).to.not.include('Wr0ngPassw0rd');
  });

  it('exits 1 naming a table that does not exist', async () => {
    const run = await startCli(['sweep', '--db-url', dbUrl, '--table', 'no_such_items'], cwd).exited;
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include('memgate sweep: table no_such_items does not exist');
  });

  it('adds the lease table to a database made before the sweeper existed', async () => {
    await sql('DROP TABLE IF EXISTS memgate_lease');
    await seedRows(sql, table, { prefix: 'dead:', count: 10, expirySql: EXPIRED });
    const run = await sweep();
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^deleted 10 rows/);
  });

  it('--help lists sweep and --dry-run; other commands refuse --dry-run', async () => {
    const help = await startCli(['--help'], cwd).exited;
    expect(help.stdout).to.match(/^ {2}sweep +\S/m).and.match(/^ {2}--dry-run +\S/m);
    const serve = await startCli(['serve', '--dry-run', '--embedded-data-dir', path.join(cwd, 'must-not-exist')], cwd).exited;
    expect(serve.code).to.equal(2);
    expect(serve.stderr).to.include('--dry-run');
  });

  it('loses no write that clients make through a gateway during the sweep', async () => {
    // 100,000 expired rows; clients keep setting a twentieth of them again while the sweep runs.
    await seedRows(sql, table, { prefix: 'k:', count: 100_000, expirySql: EXPIRED });
    const gateway = await startGateway({ config: { db: { table } } });
    const clients = await Promise.all(Array.from({ length: 8 }, () => RawConnection.open(gateway.port)));
    const last = new Map<string, string>();
    try {
      const running = sweep(['--sweep-batch-size', '500', '--sweep-pause-ms', '0']);
      let sweeping = true;
      void running.then(() => (sweeping = false));
      const writers = clients.map(async (client, w) => {
        // Each writer owns its keys, so the last value it saw STORED is the one to find.
        const keys = Array.from({ length: 625 }, (_, i) => `k:${(i * 8 + w) * 20}`);
        for (let round = 0; round === 0 || sweeping; round++) {
          for (const key of keys) {
            const value = `${key}@${round}`;
            const reply = await client.request(`set ${key} 0 ${round % 2 ? 3600 : 0} ${value.length}\r\n${value}\r\n`);
            expect(reply, key).to.equal('STORED\r\n');
            last.set(key, value);
          }
        }
      });
      await Promise.all(writers);
      const run = await running;
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(SUMMARY);

      expect(last.size).to.equal(5_000);
      const keys = [...last.keys()];
      for (let i = 0; i < keys.length; i += 100) {
        const batch = keys.slice(i, i + 100);
        const reply = await clients[0]!.request(`get ${batch.join(' ')}\r\n`);
        const found = new Map([...reply.matchAll(/VALUE (\S+) \d+ \d+\r\n([^\r]*)\r\n/g)].map((m) => [m[1]!, m[2]!]));
        for (const key of batch) expect(found.get(key), key).to.equal(last.get(key));
      }
      expect(await count(), 'only the rows written again are left').to.equal(5_000);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await gateway.stop();
    }
  });
});
