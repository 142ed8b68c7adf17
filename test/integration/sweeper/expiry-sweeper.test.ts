import { expect } from 'chai';
import { CasAllocator } from '../../../src/store/cas-allocator.js';
import { parseDatabaseUrl } from '../../../src/store/db-url.js';
import { MysqlKvStore } from '../../../src/store/mysql-kv-store.js';
import { createDatabasePool, type DatabasePool } from '../../../src/store/pool.js';
import { applySchema } from '../../../src/store/schema.js';
import { sweepStatements } from '../../../src/store/sql/sweep-expired.js';
import { ExpirySweeper, type PassOutcome, type SweepResult } from '../../../src/sweeper/expiry-sweeper.js';
import { freshTableName, getTestDatabaseUrl, testLogger } from '../../helpers/database.js';
import { seedRows } from '../../../bench/seed.js';

const k = (s: string) => Buffer.from(s);
const EXPIRED = 'UNIX_TIMESTAMP() - 1 - n MOD 7200';

function swept(outcome: PassOutcome): SweepResult {
  if (outcome.kind !== 'swept') throw new Error(`expected a pass, the lease was held by ${outcome.held.holder}`);
  return outcome.result;
}

describe('ExpirySweeper (real MariaDB)', function () {
  this.timeout(60_000);
  const logger = testLogger();
  /** two pools: two gateways or cron hosts */
  let pools: DatabasePool[] = [];
  let table: string;
  let store: MysqlKvStore;

  const sql = async (text: string, params: unknown[] = []) =>
    pools[0]!.withConnection(async (c) => (await c.query(text, params))[0]);
  const count = async (where = '1') =>
    Number((await sql(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE ${where}`) as Array<{ n: number | string }>)[0]!.n);
  const seed = (prefix: string, n: number, expirySql: string) =>
    seedRows(sql, table, { prefix, count: n, expirySql });
  const sweeper = (pool = pools[0]!) => new ExpirySweeper(pool, table, logger);
  const defaults = { batchSize: 1000, pauseMs: 0, budgetMs: 0 };

  before(async () => {
    const endpoint = parseDatabaseUrl(await getTestDatabaseUrl());
    const options = { endpoints: [endpoint], size: 8, acquireTimeoutMs: 5000, connectTimeoutMs: 5000, idleTimeoutMs: 10000, statementTimeoutMs: 10000 };
    pools = [createDatabasePool(options, logger), createDatabasePool(options, logger)];
  });

  beforeEach(async () => {
    table = freshTableName('sweep');
    await applySchema(pools[0]!, { engine: 'innodb', table, onlyIfMissing: false }, logger);
    store = new MysqlKvStore(pools[1]!, new CasAllocator(pools[1]!, 1000), { table, itemSizeMax: 1024 * 1024 }, logger);
  });

  afterEach(async () => {
    await sql(`DROP TABLE IF EXISTS \`${table}\``);
  });

  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it('of 100,000 rows deletes exactly the expired ones: live rows and rows re-set during the sweep stay', async () => {
    // expired rows, some set with a negative exptime (expiry 1, the oldest possible)
    await seed('dead:', 40_000, `IF(n MOD 10 = 0, 1, ${EXPIRED})`);
    // live rows: half never expire, half expire in an hour
    await seed('live:', 40_000, 'IF(n MOD 2 = 0, 0, UNIX_TIMESTAMP() + 3600 + n MOD 600)');
    // expired rows that clients set again while the sweep runs, spread among the others
    await seed('reset:', 20_000, EXPIRED);
    expect(await count()).to.equal(100_000);

    let writer: Promise<void> | null = null;
    const resetValue = (n: number) => `again ${n}`;
    const resetAll = async () => {
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < 20_000) {
          const n = next++;
          // half never expire, half for an hour: a re-set row is live either way
          await store.store({ mode: 'set', key: k(`reset:${n}`), value: k(resetValue(n)), flags: 7, exptime: n % 2 ? 3600 : 0, cas: 0n });
        }
      }));
    };
    const result = swept(await sweeper().pass({
      ...defaults,
      pauseMs: 20,
      // the writer starts once the sweep is under way
      onProgress: () => void (writer ??= resetAll()),
    }));
    await writer;

    expect(result.end).to.equal('done');
    expect(await count("mkey LIKE 'dead:%'"), 'expired rows left').to.equal(0);
    expect(await count("mkey LIKE 'live:%'"), 'live rows kept').to.equal(40_000);
    expect(await count("mkey LIKE 'reset:%'"), 're-set rows kept').to.equal(20_000);
    expect(await count(), 'nothing else in the table').to.equal(60_000);
    const values = await sql(`SELECT mkey, string_value, flags FROM \`${table}\` WHERE mkey LIKE 'reset:%'`) as Array<{ mkey: Buffer; string_value: Buffer; flags: number }>;
    const wrong = values.filter((row) => row.string_value.toString() !== resetValue(Number(row.mkey.toString().slice(6))) || row.flags !== 7);
    expect(wrong.map((row) => row.mkey.toString()).slice(0, 5), 're-set rows hold their new values').to.deep.equal([]);
    // Every expired row is counted once; the re-set ones the sweep reached first are among them.
    expect(result.rows).to.be.within(40_000, 60_000);
  });

  it('reads the expiry index range in order, never the whole table, and deletes by primary key', async () => {
    await seed('dead:', 20_000, EXPIRED);
    await seed('live:', 20_000, '0');
    await sql(`ANALYZE TABLE \`${table}\``);
    const statements = sweepStatements(table, 100);
    const [plan] = await sql(`EXPLAIN ${statements.next}`, [1, 2_000_000_000, 0, k('')]) as Array<Record<string, unknown>>;
    expect(plan).to.include({ key: 'expiry_idx', type: 'range' });
    expect(String(plan!.Extra)).to.not.match(/filesort/i);
    const keys = Array.from({ length: 100 }, (_, i) => k(`dead:${i}`));
    const [deletePlan] = await sql(`EXPLAIN ${statements.delete}`, keys) as Array<Record<string, unknown>>;
    expect(deletePlan).to.include({ key: 'PRIMARY', type: 'range' });
  });

  it('does not delete a row set, touched or added again between reading a batch and deleting it', async () => {
    await seed('dead:', 10, EXPIRED);
    const statements = sweepStatements(table, 10);
    const batch = await sql(statements.next, [1, 2_000_000_000, 0, k('')]) as Array<{ mkey: Buffer }>;
    expect(batch).to.have.length(10);
    // After the read, clients bring three of them back to life.
    await store.store({ mode: 'set', key: k('dead:1'), value: k('set'), flags: 0, exptime: 0, cas: 0n });
    await store.store({ mode: 'add', key: k('dead:2'), value: k('added'), flags: 0, exptime: 600, cas: 0n });
    await sql(`UPDATE \`${table}\` SET expiry = UNIX_TIMESTAMP() + 600 WHERE mkey = 'dead:3'`); // a touch by another gateway
    const [result] = await pools[0]!.withConnection((c) => c.execute(statements.delete, batch.map((row) => row.mkey)));
    expect((result as { affectedRows: number }).affectedRows).to.equal(7);
    const left = await sql(`SELECT mkey FROM \`${table}\` ORDER BY mkey`) as Array<{ mkey: Buffer }>;
    expect(left.map((row) => row.mkey.toString())).to.deep.equal(['dead:1', 'dead:2', 'dead:3']);
  });

  it('removes rows hidden by flush_all, not those written after it', async () => {
    for (const key of ['a', 'b', 'c']) await store.store({ mode: 'set', key: k(key), value: k('v'), flags: 0, exptime: 0, cas: 0n });
    await store.flushAll(0);
    await store.store({ mode: 'set', key: k('after'), value: k('v'), flags: 0, exptime: 0, cas: 0n });
    const result = swept(await sweeper().pass(defaults));
    expect(result.rows).to.equal(3);
    const left = await sql(`SELECT mkey FROM \`${table}\``) as Array<{ mkey: Buffer }>;
    expect(left.map((row) => row.mkey.toString())).to.deep.equal(['after']);
  });

  it('two sweepers at once: one sweeps, the other finds the lease taken, each row is deleted once', async () => {
    await seed('dead:', 20_000, EXPIRED);
    const [a, b] = [sweeper(pools[0]), sweeper(pools[1])];
    const slow = { ...defaults, batchSize: 500, pauseMs: 20 };
    const outcomes = await Promise.all([a.pass(slow), b.pass(slow)]);
    const passes = outcomes.filter((o) => o.kind === 'swept');
    const skipped = outcomes.filter((o) => o.kind === 'busy');
    expect(passes, 'exactly one pass ran').to.have.length(1);
    expect(skipped).to.have.length(1);
    expect(swept(passes[0]!).rows).to.equal(20_000);
    expect(await count()).to.equal(0);
    // The lease is given back at the end of a pass: the other may sweep next time.
    await seed('later:', 10, EXPIRED);
    const other = outcomes[0]!.kind === 'busy' ? a : b;
    expect(swept(await other.pass(defaults)).rows).to.equal(10);
  });

  it('a second sweeper started during a pass does nothing and names the holder', async () => {
    await seed('dead:', 5_000, EXPIRED);
    const [a, b] = [sweeper(pools[0]), sweeper(pools[1])];
    let second: Promise<PassOutcome> | null = null;
    const first = await a.pass({ ...defaults, batchSize: 500, pauseMs: 50, onProgress: () => void (second ??= b.pass(defaults)) });
    const outcome = await second!;
    expect(outcome.kind).to.equal('busy');
    if (outcome.kind === 'busy') {
      const lease = await sql("SELECT holder FROM memgate_lease WHERE name = ?", [`sweep:${table}`]) as Array<{ holder: string }>;
      expect(outcome.held.holder).to.equal(lease[0]!.holder);
      expect(outcome.held.secondsLeft).to.be.above(0);
    }
    expect(swept(first).rows).to.equal(5_000);
  });

  it('takes over a lease whose holder died once it runs out, not before', async () => {
    await seed('dead:', 100, EXPIRED);
    const name = `sweep:${table}`;
    await sql('INSERT INTO memgate_lease (name, holder, expires_at) VALUES (?, ?, UNIX_TIMESTAMP() + 60)', [name, 'gone-host:1:x']);
    const blocked = await sweeper().pass(defaults);
    expect(blocked.kind).to.equal('busy');
    if (blocked.kind === 'busy') {
      expect(blocked.held.holder).to.equal('gone-host:1:x');
      expect(blocked.held.secondsLeft).to.be.within(58, 60);
    }
    expect(await count()).to.equal(100);
    await sql('UPDATE memgate_lease SET expires_at = UNIX_TIMESTAMP() - 1 WHERE name = ?', [name]);
    expect(swept(await sweeper().pass(defaults)).rows).to.equal(100);
  });

  it('stops when another sweeper took its lease over', async () => {
    await seed('dead:', 5_000, EXPIRED);
    const name = `sweep:${table}`;
    let stolen: Promise<unknown> | null = null;
    const result = swept(await sweeper().pass({
      ...defaults, batchSize: 100, pauseMs: 100, leaseSeconds: 1,
      onProgress: () => void (stolen ??= sql('UPDATE memgate_lease SET holder = ?, expires_at = UNIX_TIMESTAMP() + 60 WHERE name = ?', ['thief', name])),
    }));
    await stolen;
    expect(result.end).to.equal('lease_lost');
    expect(result.rows).to.be.below(5_000);
    expect(await count()).to.equal(5_000 - result.rows);
    const lease = await sql('SELECT holder FROM memgate_lease WHERE name = ?', [name]) as Array<{ holder: string }>;
    expect(lease[0]!.holder, 'the lease stays with the one that took it').to.equal('thief');
  });

  it('a dry run counts the expired rows and deletes nothing', async () => {
    await seed('dead:', 2_500, EXPIRED);
    await seed('live:', 1_000, '0');
    const result = swept(await sweeper().pass({ ...defaults, dryRun: true }));
    expect(result).to.include({ rows: 2_500, batches: 3, dryRun: true, end: 'done' });
    expect(await count()).to.equal(3_500);
  });

  it('stops at the time budget; the next pass finishes the job', async () => {
    await seed('dead:', 5_000, EXPIRED);
    const first = swept(await sweeper().pass({ batchSize: 100, pauseMs: 100, budgetMs: 300 }));
    expect(first.end).to.equal('budget');
    expect(first.rows).to.be.above(0).and.below(5_000);
    const second = swept(await sweeper().pass(defaults));
    expect(first.rows + second.rows).to.equal(5_000);
    expect(await count()).to.equal(0);
  });

  it('stops after the batch in flight when asked, and gives the lease back', async () => {
    await seed('dead:', 5_000, EXPIRED);
    const controller = new AbortController();
    const result = swept(await sweeper().pass({
      ...defaults, batchSize: 100, pauseMs: 1000, signal: controller.signal, onProgress: () => controller.abort(),
    }));
    expect(result).to.include({ end: 'stopped', rows: 100, batches: 1 });
    expect(result.elapsedMs, 'the pause was cut short').to.be.below(1000);
    expect(swept(await sweeper(pools[1]).pass(defaults)).rows).to.equal(4_900);
  });
});
