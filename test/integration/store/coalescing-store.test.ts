import { expect } from 'chai';
import { batchPolicy } from '../../../src/store/batch-policy.js';
import { CasAllocator } from '../../../src/store/cas-allocator.js';
import { CoalescingStore } from '../../../src/store/coalescing-store.js';
import { parseDatabaseUrl } from '../../../src/store/db-url.js';
import type { StoreInput } from '../../../src/store/kv-store.js';
import { MysqlKvStore } from '../../../src/store/mysql-kv-store.js';
import { createDatabasePool, type DatabasePool } from '../../../src/store/pool.js';
import { applySchema } from '../../../src/store/schema.js';
import { freshTableName, getTestDatabaseUrl, testLogger } from '../../helpers/database.js';

const k = (s: string) => Buffer.from(s);
const set = (key: string, value: string): StoreInput => ({ mode: 'set', key: k(key), value: k(value), flags: 0, exptime: 0, cas: 0n });

/** What CoalescingStore asked of the MySQL store under it: each call's keys or sets. */
interface InnerCalls {
  get: string[][];
  setMany: string[][];
  store: string[];
}

describe('CoalescingStore over a real MysqlKvStore (real MariaDB)', function () {
  this.timeout(60_000);
  const logger = testLogger();
  let pool: DatabasePool;
  let table: string;

  before(async () => {
    const endpoint = parseDatabaseUrl(await getTestDatabaseUrl());
    pool = createDatabasePool({
      endpoints: [endpoint], size: 8, acquireTimeoutMs: 5000, connectTimeoutMs: 5000, idleTimeoutMs: 10000, statementTimeoutMs: 10000,
    }, logger);
    table = freshTableName('coalesce');
    await applySchema(pool, { engine: 'innodb', table, onlyIfMissing: false }, logger);
  });

  after(async () => {
    await pool.withConnection((c) => c.query(`DROP TABLE IF EXISTS \`${table}\``));
    await pool.close();
  });

  /**
   * A coalescing store over a real MysqlKvStore whose calls are recorded. Requests made in the
   * same tick wait the window for each other, so which of them merge does not depend on timing.
   */
  function coalescing(settings: { maxBatchKeys?: number; maxBatchBytes?: number } = {}) {
    const inner = new MysqlKvStore(pool, new CasAllocator(pool, 100), { table, itemSizeMax: 1 << 20 }, logger);
    const calls: InnerCalls = { get: [], setMany: [], store: [] };
    const get = inner.get.bind(inner);
    inner.get = (keys, options) => {
      calls.get.push(keys.map(String));
      return get(keys, options);
    };
    const setMany = inner.setMany.bind(inner);
    inner.setMany = (inputs) => {
      calls.setMany.push(inputs.map((input) => `${input.key}=${input.value}`));
      return setMany(inputs);
    };
    const store = inner.store.bind(inner);
    inner.store = (input) => {
      calls.store.push(`${input.mode}:${input.key}`);
      return store(input);
    };
    const merge = batchPolicy({ maxBatchKeys: settings.maxBatchKeys ?? 256, maxBatchBytes: settings.maxBatchBytes ?? 1 << 20 }).merge;
    const outer = new CoalescingStore(inner, { maxInFlight: 1, maxWritesInFlight: 1, merge, windowMs: 30 });
    return { outer, inner, calls };
  }

  it('answers concurrent gets of several callers with one read, each caller its own keys', async () => {
    const { outer, inner, calls } = coalescing();
    await inner.setMany([set('g-a', 'A'), set('g-b', 'B'), set('g-c', 'C')]);
    const [first, second, third] = await Promise.all([
      outer.get([k('g-a')]),
      outer.get([k('g-b'), k('g-missing')]),
      outer.get([k('g-c'), k('g-a')]),
    ]);
    expect(outer.counts.readBatches).to.equal(1);
    expect(outer.counts.readKeys).to.equal(5);
    expect(calls.get).to.deep.equal([['g-a', 'g-b', 'g-missing', 'g-c', 'g-a']]);
    expect(first.get('g-a')?.value.toString()).to.equal('A');
    expect(second.get('g-b')?.value.toString()).to.equal('B');
    expect(second.has('g-missing')).to.equal(false);
    expect(third.get('g-c')?.value.toString()).to.equal('C');
  });

  it('never reads more than merge.maxReadKeys keys in one merged read', async () => {
    const { outer, calls } = coalescing({ maxBatchKeys: 4 });
    const callers = Array.from({ length: 6 }, (_, i) => [k(`r-${i}-x`), k(`r-${i}-y`)]);
    await Promise.all(callers.map((keys) => outer.get(keys)));
    expect(outer.counts.readKeys).to.equal(12);
    expect(outer.counts.readBatches).to.equal(3);
    for (const keys of calls.get) expect(keys.length).to.be.at.most(4);
    // each caller's keys are read together
    expect(calls.get).to.deep.equal([
      ['r-0-x', 'r-0-y', 'r-1-x', 'r-1-y'], ['r-2-x', 'r-2-y', 'r-3-x', 'r-3-y'], ['r-4-x', 'r-4-y', 'r-5-x', 'r-5-y'],
    ]);
  });

  it('writes concurrent plain sets of several callers as one statement, each caller getting its own CAS', async () => {
    const { outer, calls } = coalescing();
    const results = await Promise.all(['w-a', 'w-b', 'w-c', 'w-d'].map((key) => outer.store(set(key, `${key}!`))));
    expect(outer.counts.writeBatches).to.equal(1);
    expect(outer.counts.writeSets).to.equal(4);
    expect(calls.setMany).to.deep.equal([['w-a=w-a!', 'w-b=w-b!', 'w-c=w-c!', 'w-d=w-d!']]);
    expect(calls.store).to.deep.equal([]);
    expect(results.map((r) => r.outcome)).to.deep.equal(['stored', 'stored', 'stored', 'stored']);
    const cas = results.map((r) => r.cas!);
    expect(new Set(cas).size).to.equal(4);
    const items = await outer.get(['w-a', 'w-b', 'w-c', 'w-d'].map(k));
    expect(['w-a', 'w-b', 'w-c', 'w-d'].map((key) => items.get(key)?.cas)).to.deep.equal(cas);
  });

  it('keeps one caller\'s sets together and in order in one write: the last of them wins', async () => {
    // 1000 bytes per write: a lone set (about 300 bytes) fills a third of it, the group of three
    // almost all, so only whole groups can keep a write under the limit.
    const { outer, calls } = coalescing({ maxBatchBytes: 1000 });
    const v = (tag: string) => tag.padEnd(290, '.');
    const lone = outer.store(set('o-lone', v('lone')));
    const group = outer.setMany([set('o-group', v('1')), set('o-group', v('2')), set('o-group', v('3'))]);
    const after = outer.store(set('o-after', v('after')));
    const [, groupResults] = await Promise.all([lone, group, after]);
    const groupWrites = calls.setMany.filter((write) => write.some((row) => row.startsWith('o-group=')));
    expect(groupWrites).to.have.length(1);
    expect(groupWrites[0]!.filter((row) => row.startsWith('o-group=')).map((row) => row.slice('o-group='.length, 'o-group='.length + 1)))
      .to.deep.equal(['1', '2', '3']);
    for (const write of calls.setMany) {
      expect(write.reduce((bytes, row) => bytes + row.length - 1, 0), 'bytes of one write').to.be.at.most(1000);
    }
    const item = (await outer.get([k('o-group')])).get('o-group');
    expect(item?.value.toString()).to.equal(v('3'));
    expect(item?.cas).to.equal(groupResults[2]!.cas);
  });

  it('writes a set bigger than merge.maxWriteBytes alone, not in a merged write', async () => {
    const { outer, calls } = coalescing({ maxBatchBytes: 1000 });
    const big = 'x'.repeat(1001);
    const results = await Promise.all([outer.store(set('b-small-1', 's1')), outer.store(set('b-big', big)), outer.store(set('b-small-2', 's2'))]);
    expect(results.map((r) => r.outcome)).to.deep.equal(['stored', 'stored', 'stored']);
    expect(calls.store).to.deep.equal(['set:b-big']);
    expect(calls.setMany).to.deep.equal([['b-small-1=s1', 'b-small-2=s2']]);
    expect((await outer.get([k('b-big')])).get('b-big')?.value.toString()).to.equal(big);
  });

  it('runs add, replace, cas, append and sets with a CAS each as its own statement', async () => {
    const { outer, inner, calls } = coalescing();
    const [seeded] = await inner.setMany([set('n-cas', 'old')]);
    await inner.setMany([set('n-replace', 'old'), set('n-append', 'old'), set('n-set-cas', 'old')]);
    const current = (await inner.get([k('n-set-cas')])).get('n-set-cas')!.cas;
    calls.setMany.length = 0;
    const results = await Promise.all([
      outer.store({ ...set('n-add', 'added'), mode: 'add' }),
      outer.store({ ...set('n-replace', 'replaced'), mode: 'replace' }),
      outer.store({ ...set('n-cas', 'swapped'), mode: 'cas', cas: seeded!.cas }),
      outer.store({ ...set('n-append', '+'), mode: 'append' }),
      outer.store({ ...set('n-set-cas', 'new'), cas: current }),
    ]);
    expect(results.map((r) => r.outcome)).to.deep.equal(['stored', 'stored', 'stored', 'stored', 'stored']);
    expect(outer.counts.writeBatches).to.equal(0);
    expect(calls.setMany).to.deep.equal([]);
    expect(calls.store).to.have.members(['add:n-add', 'replace:n-replace', 'cas:n-cas', 'append:n-append', 'set:n-set-cas']);
    const items = await outer.get(['n-add', 'n-replace', 'n-cas', 'n-append', 'n-set-cas'].map(k));
    expect([...items.values()].map((item) => item.value.toString())).to.have.members(['added', 'replaced', 'swapped', 'old+', 'new']);
  });
});
