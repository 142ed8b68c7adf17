import { expect } from 'chai';
import { CasAllocator } from '../../../src/store/cas-allocator.js';
import { CoalescingStore } from '../../../src/store/coalescing-store.js';
import { parseDatabaseUrl } from '../../../src/store/db-url.js';
import { MysqlKvStore } from '../../../src/store/mysql-kv-store.js';
import { batchPolicy } from '../../../src/store/batch-policy.js';
import { createDatabasePool, type DatabasePool } from '../../../src/store/pool.js';
import { applySchema } from '../../../src/store/schema.js';
import { freshTableName, getTestDatabaseUrl, testLogger } from '../../helpers/database.js';

const k = (s: string) => Buffer.from(s);
const ITEM_SIZE_MAX = 1024 * 1024;

describe('MysqlKvStore (real MariaDB)', function () {
  this.timeout(60000);
  const logger = testLogger();
  let pools: DatabasePool[] = [];
  let table: string;
  /** two stores with their own pools and CAS allocators: two gateways on one table */
  let a: MysqlKvStore;
  let b: MysqlKvStore;

  const makeStore = (pool: DatabasePool, blockSize = 10) =>
    new MysqlKvStore(pool, new CasAllocator(pool, blockSize), { table, itemSizeMax: ITEM_SIZE_MAX }, logger);

  const sql = async (text: string, params: unknown[] = []) =>
    pools[0]!.withConnection(async (c) => (await c.query(text, params))[0]);

  before(async () => {
    const endpoint = parseDatabaseUrl(await getTestDatabaseUrl());
    const options = { endpoints: [endpoint], size: 8, acquireTimeoutMs: 5000, connectTimeoutMs: 5000, idleTimeoutMs: 10000, statementTimeoutMs: 10000 };
    pools = [createDatabasePool(options, logger), createDatabasePool(options, logger)];
    table = freshTableName('store');
    await applySchema(pools[0]!, { engine: 'innodb', table, onlyIfMissing: false }, logger);
    a = makeStore(pools[0]!);
    b = makeStore(pools[1]!);
  });

  after(async () => {
    await sql(`DROP TABLE IF EXISTS \`${table}\``);
    await Promise.all(pools.map((p) => p.close()));
  });

  const set = (store: MysqlKvStore, key: string, value: string, exptime = 0, flags = 0) =>
    store.store({ mode: 'set', key: k(key), value: k(value), flags, exptime, cas: 0n });

  it('stores rows that SQL can read: key, value, flags, cas, absolute expiry', async () => {
    await set(a, 'sql-visible', 'hello', 100, 42);
    const rows = await sql(`SELECT mkey, string_value, flags, cas_value, expiry, UNIX_TIMESTAMP() AS now FROM \`${table}\` WHERE mkey = ?`, [k('sql-visible')]) as Array<Record<string, unknown>>;
    expect(rows).to.have.length(1);
    const row = rows[0]!;
    expect((row.string_value as Buffer).toString()).to.equal('hello');
    expect(row.flags).to.equal(42);
    const now = Number(row.now);
    expect(Number(row.expiry)).to.be.within(now + 99, now + 100);
  });

  it('follows memcached exptime rules by the database clock', async () => {
    const [[{ now }]] = [await sql('SELECT UNIX_TIMESTAMP() AS now') as Array<{ now: number }>];
    await set(a, 'never', 'v', 0);
    await set(a, 'relative', 'v', 1000);
    await set(a, 'negative', 'v', -1);
    await set(a, 'absolute-past', 'v', 2678400);
    await set(a, 'absolute-future', 'v', Number(now) + 1000);
    const found = await b.get(['never', 'relative', 'negative', 'absolute-past', 'absolute-future'].map(k));
    expect([...found.keys()].sort()).to.deep.equal(['absolute-future', 'never', 'relative']);
  });

  it('treats an expired row as absent for add, replace, append, incr, touch and cas', async () => {
    await set(a, 'dead', '5', -1);
    expect((await b.store({ mode: 'replace', key: k('dead'), value: k('x'), flags: 0, exptime: 0, cas: 0n })).outcome).to.equal('not_stored');
    expect((await b.store({ mode: 'append', key: k('dead'), value: k('x'), flags: 0, exptime: 0, cas: 0n })).outcome).to.equal('not_stored');
    expect((await b.arithmetic({ key: k('dead'), incr: true, delta: 1n })).outcome).to.equal('not_found');
    expect(await b.touch(k('dead'), 100)).to.equal('not_found');
    expect(await b.delete(k('dead'))).to.equal('not_found');
    const rows = await sql(`SELECT cas_value FROM \`${table}\` WHERE mkey = 'dead'`) as Array<{ cas_value: string }>;
    expect((await b.store({ mode: 'cas', key: k('dead'), value: k('x'), flags: 0, exptime: 0, cas: BigInt(rows[0]!.cas_value) })).outcome).to.equal('not_found');
    expect((await b.store({ mode: 'add', key: k('dead'), value: k('alive'), flags: 3, exptime: 0, cas: 0n })).outcome).to.equal('stored');
    const item = (await a.get([k('dead')])).get('dead');
    expect(item?.value.toString()).to.equal('alive');
    expect(item?.flags).to.equal(3);
  });

  it('add with an exptime in the past is STORED when absent and NOT_STORED over a live item', async () => {
    expect((await a.store({ mode: 'add', key: k('probe'), value: k(''), flags: 0, exptime: 2678400, cas: 0n })).outcome).to.equal('stored');
    expect((await a.get([k('probe')])).size).to.equal(0);
    await set(a, 'probe-live', 'session');
    expect((await b.store({ mode: 'add', key: k('probe-live'), value: k(''), flags: 0, exptime: 2678400, cas: 0n })).outcome).to.equal('not_stored');
    expect((await a.get([k('probe-live')])).get('probe-live')?.value.toString()).to.equal('session');
  });

  it('gives CAS values that are unique across stores and never repeat after delete and re-add', async () => {
    const seen = new Set<bigint>();
    for (let round = 0; round < 30; round++) {
      const store = round % 2 === 0 ? a : b;
      const result = await set(store, 'cas-key', `v${round}`);
      expect(seen.has(result.cas!), `cas ${result.cas} repeated`).to.equal(false);
      seen.add(result.cas!);
      await (round % 3 === 0 ? a : b).delete(k('cas-key'));
    }
  });

  it('lets exactly one of two concurrent cas writers win', async () => {
    for (let round = 0; round < 10; round++) {
      const { cas } = await set(a, 'race', 'start');
      const results = await Promise.all([a, b].map((store, i) =>
        store.store({ mode: 'cas', key: k('race'), value: k(`w${i}`), flags: 0, exptime: 0, cas: cas! })));
      expect(results.map((r) => r.outcome).sort()).to.deep.equal(['exists', 'stored']);
    }
  });

  it('never loses an increment under concurrency from two stores', async () => {
    await set(a, 'counter', '0');
    const workers = Array.from({ length: 8 }, (_, w) => (async () => {
      for (let i = 0; i < 50; i++) {
        const r = await (w % 2 === 0 ? a : b).arithmetic({ key: k('counter'), incr: true, delta: 1n });
        expect(r.outcome).to.equal('ok');
      }
    })());
    await Promise.all(workers);
    expect((await a.get([k('counter')])).get('counter')?.value.toString()).to.equal('400');
  });

  it('creates a counter with an initial value exactly once when asked to', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) =>
      (i % 2 ? a : b).arithmetic({ key: k('initial'), incr: true, delta: 1n, initial: { value: 10n, exptime: 0 } })));
    const values = results.map((r) => (r.outcome === 'ok' ? r.value : -1n)).sort((x, y) => Number(x - y));
    expect(values).to.deep.equal([10n, 11n, 12n, 13n, 14n, 15n]);
  });

  it('touch reports TOUCHED even when the expiry does not change', async () => {
    await set(a, 'touch-same', 'v', 0);
    expect(await a.touch(k('touch-same'), 0)).to.equal('touched');
    expect(await a.touch(k('touch-same'), 0)).to.equal('touched');
    expect(await a.touch(k('absent'), 0)).to.equal('not_found');
  });

  it('gat returns the item and moves its expiry', async () => {
    await set(a, 'gat', 'v', 0);
    const found = await b.getAndTouch([k('gat'), k('gat-missing')], -1);
    expect(found.get('gat')?.value.toString()).to.equal('v');
    expect((await a.get([k('gat')])).size).to.equal(0);
  });

  it('checks a CAS on append, prepend, incr and delete (binary protocol), as memcached does', async () => {
    const stored = await set(a, 'cas-ops', '10');
    const cas = stored.cas!;
    const append = (key: string, value: string, casToken: bigint) =>
      b.store({ mode: 'append', key: k(key), value: k(value), flags: 0, exptime: 0, cas: casToken });
    expect((await append('cas-ops', '0', cas + 1000n)).outcome).to.equal('exists');
    expect((await append('cas-missing', '0', cas)).outcome).to.equal('not_stored');
    const appended = await append('cas-ops', '0', cas);
    expect(appended.outcome).to.equal('stored');
    expect((await b.arithmetic({ key: k('cas-ops'), incr: true, delta: 1n, cas })).outcome).to.equal('exists');
    const incremented = await a.arithmetic({ key: k('cas-ops'), incr: true, delta: 1n, cas: appended.cas! });
    expect(incremented).to.include({ outcome: 'ok', value: 101n });
    expect(await b.delete(k('cas-ops'), { cas: appended.cas! })).to.equal('exists');
    expect((await a.get([k('cas-ops')])).get('cas-ops')?.value.toString()).to.equal('101');
    if (incremented.outcome !== 'ok') throw new Error('unreachable');
    expect(await b.delete(k('cas-ops'), { cas: incremented.cas })).to.equal('deleted');
    expect(await b.delete(k('cas-ops'), { cas: incremented.cas })).to.equal('not_found');
  });

  it('keeps merged writes of tiny values to at most 256 rows, and one connection\'s sets in one of them', async () => {
    const coalescing = new CoalescingStore(a, { maxInFlight: 1, maxWritesInFlight: 1, merge: batchPolicy({ maxBatchKeys: 256, maxBatchBytes: 1 << 20 }).merge });
    const set = (key: string, value: string) => ({ mode: 'set' as const, key: k(key), value: k(value), flags: 0, exptime: 0, cas: 0n });
    const lone = Array.from({ length: 600 }, (_, i) => coalescing.store(set(`rows-${i}`, '')));
    // a pipelined run of one connection, setting one key three times: it must not be split
    const run = coalescing.setMany([set('rows-run', '1'), set('rows-run', '2'), set('rows-run', '3')]);
    await Promise.all([...lone, run]);
    const { writeBatches, writeSets } = coalescing.counts;
    expect(writeSets).to.equal(603);
    // the first set starts alone; the 602 waiting ones need at least three batches of <= 256 rows
    expect(writeBatches).to.be.at.least(4);
    expect((await coalescing.get([k('rows-run')])).get('rows-run')?.value.toString()).to.equal('3');
  });

  it('merges concurrent plain sets and gets: last writer wins per key, own CAS and expiry per row', async () => {
    const coalescing = new CoalescingStore(a, { maxInFlight: 1, maxWritesInFlight: 1, merge: batchPolicy({ maxBatchKeys: 256, maxBatchBytes: 1 << 20 }).merge });
    const writes = [
      { key: 'merge-a', value: 'a1', exptime: 0, flags: 1 },
      { key: 'merge-dup', value: 'v1', exptime: 0, flags: 0 },
      { key: 'merge-b', value: 'b1', exptime: 100, flags: 2 },
      { key: 'merge-dup', value: 'v2', exptime: 0, flags: 0 },
      { key: 'merge-c', value: '', exptime: -1, flags: 0 },
      { key: 'merge-dup', value: 'v3', exptime: 50, flags: 7 },
    ];
    const results = await Promise.all(writes.map((w) =>
      coalescing.store({ mode: 'set', key: k(w.key), value: k(w.value), flags: w.flags, exptime: w.exptime, cas: 0n })));
    expect(results.map((r) => r.outcome)).to.deep.equal(writes.map(() => 'stored'));
    const cas = results.map((r) => r.cas!);
    expect(new Set(cas).size, 'a CAS of its own per set').to.equal(writes.length);

    const reads = await Promise.all([
      coalescing.get([k('merge-a'), k('merge-b')]),
      coalescing.get([k('merge-dup')]),
      coalescing.get([k('merge-c'), k('merge-missing')]),
    ]);
    expect(reads[0].get('merge-a')).to.include({ flags: 1, cas: cas[0] });
    expect(reads[0].get('merge-b')?.value.toString()).to.equal('b1');
    // the last of the three sets of merge-dup, with its own flags and CAS
    expect(reads[1].get('merge-dup')).to.include({ flags: 7, cas: cas[5] });
    expect(reads[1].get('merge-dup')?.value.toString()).to.equal('v3');
    expect(reads[2].has('merge-c'), 'negative exptime: expired at once').to.equal(false);
    const expiry = await sql(`SELECT mkey, IF(expiry = 0, NULL, CAST(expiry AS SIGNED) - UNIX_TIMESTAMP()) AS ttl FROM \`${table}\` WHERE mkey IN (?, ?, ?)`,
      [k('merge-a'), k('merge-b'), k('merge-dup')]) as Array<{ mkey: Buffer; ttl: number }>;
    const ttl = new Map(expiry.map((r) => [r.mkey.toString(), r.ttl === null ? null : Number(r.ttl)]));
    expect(ttl.get('merge-a'), 'exptime 0: never').to.equal(null);
    expect(ttl.get('merge-b')).to.be.within(98, 100);
    expect(ttl.get('merge-dup')).to.be.within(48, 50);
  });

  it('caps the expiry of merged sets at a pending delayed flush_all, and only while one is pending', async () => {
    const ttls = async (keys: string[]) => {
      const rows = await sql(`SELECT mkey, IF(expiry = 0, NULL, CAST(expiry AS SIGNED) - UNIX_TIMESTAMP()) AS ttl FROM \`${table}\` WHERE mkey IN (?)`,
        [keys.map(k)]) as Array<{ mkey: Buffer; ttl: number | null }>;
      return new Map(rows.map((r) => [r.mkey.toString(), r.ttl === null ? null : Number(r.ttl)]));
    };
    const merged = (writes: Array<[key: string, exptime: number]>) => a.setMany(writes.map(([key, exptime]) =>
      ({ mode: 'set' as const, key: k(key), value: k('v'), flags: 0, exptime, cas: 0n })));
    try {
      await a.flushAll(1000);
      // sorted by key, so the first row written is a capped one and so is a later one
      await merged([['cap-1-never', 0], ['cap-2-soon', 100], ['cap-3-late', 5000], ['cap-4-never', 0], ['cap-5-gone', -1]]);
      const capped = await ttls(['cap-1-never', 'cap-2-soon', 'cap-3-late', 'cap-4-never', 'cap-5-gone']);
      expect(capped.get('cap-1-never'), 'exptime 0: the flush deadline').to.be.within(998, 1000);
      expect(capped.get('cap-2-soon'), 'earlier than the deadline: its own').to.be.within(98, 100);
      expect(capped.get('cap-3-late'), 'later than the deadline: the deadline').to.be.within(998, 1000);
      expect(capped.get('cap-4-never')).to.be.within(998, 1000);
      expect(capped.get('cap-5-gone'), 'negative exptime: expired at once').to.be.below(0);
    } finally {
      await sql('DELETE FROM memgate_flush WHERE name = ?', [table]);
    }
    // Nothing pending any more: the same statement on the same connections caps nothing.
    await merged([['cap-1-never', 0], ['cap-2-soon', 100], ['cap-3-late', 5000]]);
    const free = await ttls(['cap-1-never', 'cap-2-soon', 'cap-3-late']);
    expect(free.get('cap-1-never')).to.equal(null);
    expect(free.get('cap-2-soon')).to.be.within(98, 100);
    expect(free.get('cap-3-late')).to.be.within(4998, 5000);
  });

  it('writes more merged sets than one statement holds in order, in statements of at most 64 rows', async () => {
    // 150 sets over 100 keys (the first 50 twice), shuffled key order: three statements of 64 rows
    const inputs = Array.from({ length: 150 }, (_, i) => ({
      mode: 'set' as const, key: k(`chunk-${(i * 37) % 100}`), value: k(`v${i}`), flags: i, exptime: 0, cas: 0n,
    }));
    const executed = async () => Number((await sql("SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'") as Array<{ Value: string }>)[0]!.Value);
    const store = makeStore(pools[0]!, 1000);
    const before = await executed();
    const results = await store.setMany(inputs);
    // 64 + 64 + 22 rows and one CAS block reservation; one 150-row statement would be one
    // more prepared statement per distinct batch size
    expect((await executed()) - before, 'statements').to.equal(4);
    expect(results).to.have.length(150);
    expect(new Set(results.map((r) => r.cas)).size, 'a CAS of its own for every set').to.equal(150);
    const rows = await sql(`SELECT mkey, string_value, flags, cas_value FROM \`${table}\` WHERE mkey LIKE ?`, [k('chunk-%')]) as
      Array<{ mkey: Buffer; string_value: Buffer; flags: number; cas_value: string }>;
    expect(rows).to.have.length(100);
    for (const row of rows) {
      // the later of two sets of a key wins, with its value, flags and CAS
      const last = inputs.map((input, i) => ({ input, i })).filter(({ input }) => input.key.equals(row.mkey)).pop()!;
      expect(row.string_value.toString(), row.mkey.toString()).to.equal(`v${last.i}`);
      expect(Number(row.flags)).to.equal(last.i);
      expect(BigInt(row.cas_value)).to.equal(results[last.i]!.cas);
    }
  });

  it('pads a merged write with a small row, not by repeating a big value', async () => {
    const received = async () => Number((await sql("SHOW GLOBAL STATUS LIKE 'Bytes_received'") as Array<{ Value: string }>)[0]!.Value);
    const big = Buffer.alloc(200 * 1024, 'b');
    // 33 rows make a 64-row statement; the big value sorts last, where padding used to copy it 31 times
    const inputs = [
      ...Array.from({ length: 32 }, (_, i) => ({ mode: 'set' as const, key: k(`pad-a${String(i).padStart(2, '0')}`), value: k('x'), flags: 0, exptime: 0, cas: 0n })),
      { mode: 'set' as const, key: k('pad-zz'), value: big, flags: 0, exptime: 0, cas: 0n },
    ];
    const store = makeStore(pools[0]!, 1000);
    await store.setMany([{ ...inputs[0]!, key: k('pad-warm') }]);
    const before = await received();
    await store.setMany(inputs);
    const sent = (await received()) - before;
    expect(sent, 'bytes sent to the server').to.be.below(2 * big.length);
    const [row] = await sql(`SELECT LENGTH(string_value) AS n FROM \`${table}\` WHERE mkey = ?`, [k('pad-zz')]) as Array<{ n: number }>;
    expect(Number(row!.n)).to.equal(big.length);
  });

  it('refuses an append that would exceed the item size (NOT_STORED), keeping the old value', async () => {
    const big = Buffer.alloc(ITEM_SIZE_MAX - 200, 'a');
    await a.store({ mode: 'set', key: k('big'), value: big, flags: 0, exptime: 0, cas: 0n });
    const r = await a.store({ mode: 'append', key: k('big'), value: Buffer.alloc(300, 'b'), flags: 0, exptime: 0, cas: 0n });
    expect(r.outcome).to.equal('not_stored');
    expect((await a.get([k('big')])).get('big')?.value.length).to.equal(big.length);
  });

  it('flush_all hides every row in batches, and later writes are visible', async () => {
    const values = Array.from({ length: 12000 }, (_, i) => [k(`flush-${i}`), k('v'), 0, i + 1, 0]);
    for (let i = 0; i < values.length; i += 2000) {
      await sql(`INSERT INTO \`${table}\` (mkey, string_value, flags, cas_value, expiry) VALUES ?`, [values.slice(i, i + 2000)]);
    }
    await a.flushAll(0);
    const live = await sql(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE expiry = 0 OR expiry > UNIX_TIMESTAMP()`) as Array<{ n: number }>;
    expect(Number(live[0]!.n)).to.equal(0);
    await set(b, 'after-flush', 'v');
    expect((await a.get([k('after-flush')])).size).to.equal(1);
  });

  it('a delayed flush_all hides at its deadline items written before it, even after the command', async () => {
    await set(a, 'delayed-before', 'v');
    await a.flushAll(2);
    await set(b, 'delayed-after', 'v', 1000);
    await b.touch(k('delayed-before'), 1000);
    expect((await a.get([k('delayed-before'), k('delayed-after')])).size).to.equal(2);
    await new Promise((resolve) => setTimeout(resolve, 2200));
    expect((await b.get([k('delayed-before'), k('delayed-after')])).size).to.equal(0);
    await set(a, 'delayed-later', 'v');
    expect((await b.get([k('delayed-later')])).size, 'writes after the deadline live on').to.equal(1);
  });

  it('reads any number of keys with a handful of prepared statements', async () => {
    const preparedNow = async () => {
      const rows = await sql("SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'") as Array<{ Value: string }>;
      return Number(rows[0]!.Value);
    };
    await set(a, 'many-0', 'v');
    const before = await preparedNow();
    for (let n = 1; n <= 300; n += 3) {
      const keys = Array.from({ length: n }, (_, i) => k(`many-${i}`));
      expect((await a.get(keys)).size).to.equal(1);
    }
    // Eight pooled connections may each prepare the five batch sizes once.
    expect(await preparedNow() - before).to.be.at.most(8 * 5);
    const huge = Array.from({ length: 70000 }, (_, i) => k(`many-${i}`));
    expect((await a.get(huge)).get('many-0')?.value.toString()).to.equal('v');
  });
});
