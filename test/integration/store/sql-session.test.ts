import { expect } from 'chai';
import { parseDatabaseUrl } from '../../../src/store/db-url.js';
import { SqlSession } from '../../../src/store/sql-session.js';
import { freshTableName, getTestDatabaseUrl } from '../../helpers/database.js';

/**
 * What a session reports as "a change may have reached the server" decides whether a command
 * whose connection broke may run again; here against a real MariaDB.
 */
describe('SqlSession: whether a change was sent (real MariaDB)', () => {
  let session: SqlSession;
  const table = freshTableName('session');

  before(async () => {
    session = await SqlSession.open({ endpoint: parseDatabaseUrl(await getTestDatabaseUrl()), connectTimeoutMs: 5000, wsrepSyncWait: 1, statementTimeoutMs: 5000 });
    await session.query(`CREATE TABLE \`${table}\` (k INT PRIMARY KEY, v INT)`);
  });

  after(async () => {
    await session?.query(`DROP TABLE IF EXISTS \`${table}\``);
    session?.destroy();
  });

  it('reads never count; an autocommit write counts once sent', async () => {
    session.reset();
    await session.execute(`SELECT * FROM \`${table}\` WHERE k = ?`, [1]);
    await session.query('SHOW STATUS LIKE \'Uptime\'');
    expect(session.mayHaveChanged).to.equal(false);
    await session.execute(`INSERT INTO \`${table}\` VALUES (?, ?)`, [1, 1]);
    expect(session.mayHaveChanged).to.equal(true);
  });

  it('inside a transaction only the COMMIT of one that wrote counts', async () => {
    session.reset();
    await session.query('START TRANSACTION');
    await session.execute(`SELECT * FROM \`${table}\` WHERE k = ? FOR UPDATE`, [1]);
    await session.query('COMMIT');
    expect(session.mayHaveChanged, 'a read-only transaction committed').to.equal(false);
    await session.query('START TRANSACTION');
    await session.execute(`UPDATE \`${table}\` SET v = v + 1 WHERE k = ?`, [1]);
    expect(session.mayHaveChanged, 'written but not committed: a lost connection rolls it back').to.equal(false);
    await session.query('ROLLBACK');
    expect(session.mayHaveChanged).to.equal(false);
    await session.query('START TRANSACTION');
    await session.execute(`UPDATE \`${table}\` SET v = v + 1 WHERE k = ?`, [1]);
    await session.query('COMMIT');
    expect(session.mayHaveChanged).to.equal(true);
  });

  it('sets the server-side limits below the gateway deadline', async () => {
    const [rows] = await session.query('SELECT @@SESSION.innodb_lock_wait_timeout AS lockWait, @@SESSION.max_statement_time AS maxTime');
    const row = (rows as Array<{ lockWait: number | string; maxTime: number | string }>)[0]!;
    expect(Number(row.lockWait)).to.equal(4);
    expect(Number(row.maxTime)).to.equal(4);
  });
});
