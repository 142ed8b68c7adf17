import { expect } from 'chai';
import { parseDatabaseUrl } from '../../../src/store/db-url.js';
import { createDatabasePool, type DatabasePool } from '../../../src/store/pool.js';
import { applySchema, lockTableOf } from '../../../src/store/schema.js';
import { SessionLocks } from '../../../src/store/session-locks.js';
import { freshTableName, getTestDatabaseUrl, testLogger } from '../../helpers/database.js';
import { waitFor } from '../../helpers/wait.js';

const k = (s: string) => Buffer.from(s);
const ONE = k('1');

describe('SessionLocks (real MariaDB)', function () {
  this.timeout(30000);
  const logger = testLogger();
  let pool: DatabasePool;
  let table: string;
  /** two gateways' lock stores on one table */
  let a: SessionLocks;
  let b: SessionLocks;
  let keyCounter = 0;
  const key = () => k(`memc.sess.key.lock.s${keyCounter++}`);
  const sql = async (text: string, params: unknown[] = []) => pool.withConnection(async (c) => (await c.query(text, params))[0]);
  const gateway = (id: string) => ({ id, host: 'test-host', pid: 4242 });

  before(async () => {
    pool = createDatabasePool({
      endpoints: [parseDatabaseUrl(await getTestDatabaseUrl())], size: 4, acquireTimeoutMs: 5000, connectTimeoutMs: 5000, idleTimeoutMs: 10000, statementTimeoutMs: 10000,
    }, logger);
    table = freshTableName('locks');
    await applySchema(pool, { engine: 'innodb', table, onlyIfMissing: false }, logger);
    const suffix = table.slice(-8);
    a = new SessionLocks(pool, { table: lockTableOf(table), gateway: gateway(`a-${suffix}`), livenessSeconds: 5 }, logger);
    b = new SessionLocks(pool, { table: lockTableOf(table), gateway: gateway(`b-${suffix}`), livenessSeconds: 5 }, logger);
    await a.heartbeat();
    await b.heartbeat();
  });

  after(async () => {
    await sql(`DROP TABLE IF EXISTS \`${table}\`, \`${lockTableOf(table)}\``);
    await pool.close();
  });

  it('keeps the lock table in memory (no redo log), with its holder and since when', async () => {
    const [row] = await sql('SELECT engine FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', [lockTableOf(table)]) as Array<{ engine: string }>;
    expect(row!.engine).to.equal('MEMORY');
    const lock = key();
    expect(await a.take(7, lock, ONE, 0, 0, false)).to.equal(true);
    const rows = await sql(`SELECT owner, conn_id, acquired_at > 0 AS since FROM \`${lockTableOf(table)}\` WHERE lock_key = ?`, [lock]);
    expect(rows).to.deep.equal([{ owner: a.gateway.id, conn_id: '7', since: 1 }]);
  });

  it('refuses an add of a lock held by another connection, or by the same one; a set refreshes its own', async () => {
    const lock = key();
    expect(await a.take(1, lock, ONE, 0, 0, false)).to.equal(true);
    expect(await a.take(2, lock, ONE, 0, 0, false)).to.equal(false);
    expect(await b.take(1, lock, ONE, 0, 0, false)).to.equal(false);
    expect(await a.take(1, lock, ONE, 0, 0, false)).to.equal(false);
    // The same value again still counts as stored.
    expect(await a.take(1, lock, ONE, 0, 0, true)).to.equal(true);
    expect(await a.take(2, lock, ONE, 0, 0, true)).to.equal(false);
  });

  it('changes a lock in place (replace, touch) only for its holder', async () => {
    const lock = key();
    expect(await a.take(1, lock, ONE, 0, 0, false)).to.equal(true);
    expect(await a.replace(2, lock, k('2'), 5, 0)).to.equal(false);
    expect(await b.touch(1, lock, 100)).to.equal(false);
    expect(await a.replace(1, lock, k('2'), 5, 0)).to.equal(true);
    expect(await a.touch(1, lock, 100)).to.equal(true);
    const held = (await b.read([lock])).get(lock.toString('latin1'));
    expect(held).to.deep.equal({ key: lock, value: k('2'), flags: 5, cas: 0n });
  });

  it('releases only for the holder; closing a connection releases all of its locks, and only its own', async () => {
    const [x, y, z] = [key(), key(), key()];
    expect(await a.take(3, x, ONE, 0, 0, false)).to.equal(true);
    expect(await a.take(3, y, ONE, 0, 0, false)).to.equal(true);
    expect(await a.take(4, z, ONE, 0, 0, false)).to.equal(true);
    expect(await b.release(3, x)).to.equal(false);
    expect(await a.release(4, x)).to.equal(false);
    expect(await a.release(3, x)).to.equal(true);
    a.connectionClosed(3);
    await waitFor('the closed connection\'s locks to go', async () => (await a.read([y])).size === 0, 3000);
    expect((await a.read([z])).size).to.equal(1);
    expect(a.counts.releasedOnClose).to.be.at.least(1);
  });

  it('treats locks of a gateway silent for its liveness as free, and deleteFree removes them', async () => {
    const lock = key();
    const silent = new SessionLocks(pool, { table: lockTableOf(table), gateway: gateway(`s-${table.slice(-8)}`), livenessSeconds: 5 }, logger);
    await silent.heartbeat();
    expect(await silent.take(1, lock, ONE, 0, 0, false)).to.equal(true);
    expect(await b.take(1, lock, ONE, 0, 0, false)).to.equal(false);
    await sql('UPDATE memgate_gateways SET heartbeat_at = heartbeat_at - 6 WHERE gateway_id = ?', [silent.gateway.id]);
    expect(await b.take(1, lock, ONE, 0, 0, false), 'a lock younger than the liveness period is held').to.equal(false);
    await sql(`UPDATE \`${lockTableOf(table)}\` SET acquired_at = acquired_at - 6 WHERE lock_key = ?`, [lock]);
    expect((await b.read([lock])).size, 'a dead gateway\'s lock reads as free').to.equal(0);
    expect(await b.take(1, lock, ONE, 0, 0, false)).to.equal(true);
    expect(b.counts.takenOver).to.equal(1);
    const orphan = key();
    await sql(`INSERT INTO \`${lockTableOf(table)}\` (lock_key, lock_value, owner, conn_id, acquired_at) VALUES (?, '1', ?, 1, UNIX_TIMESTAMP() - 6)`, [orphan, silent.gateway.id]);
    expect(await b.deleteFree()).to.be.at.least(1);
    const left = await sql(`SELECT lock_key FROM \`${lockTableOf(table)}\` WHERE lock_key IN (?, ?)`, [orphan, lock]) as Array<{ lock_key: Buffer }>;
    expect(left.map((row) => row.lock_key.toString())).to.deep.equal([lock.toString()]);
  });

  it('holds a fresh lock whose gateway has no heartbeat on this node yet (a restarted or new writer)', async () => {
    const lock = key();
    const newcomer = new SessionLocks(pool, { table: lockTableOf(table), gateway: gateway(`n-${table.slice(-8)}`), livenessSeconds: 5 }, logger);
    expect(await newcomer.take(1, lock, ONE, 0, 0, false)).to.equal(true);
    expect(await b.take(1, lock, ONE, 0, 0, false)).to.equal(false);
    expect((await b.read([lock])).size).to.equal(1);
    expect(await b.deleteFree()).to.be.at.least(0);
    expect(await newcomer.release(1, lock)).to.equal(true);
  });

  it('takes over an expired lock', async () => {
    const lock = key();
    expect(await a.take(1, lock, ONE, 0, -1, false)).to.equal(true);
    expect(await b.take(1, lock, ONE, 0, 0, false)).to.equal(true);
    expect(await a.release(1, lock)).to.equal(false);
  });
});

