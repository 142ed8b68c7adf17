import { expect } from 'chai';
import type { CommandContext } from '../../../src/commands/handler.js';
import { executeCommand, handlers } from '../../../src/commands/index.js';
import type { GetRequest, Request, StoreRequest } from '../../../src/model/request.js';
import type { Response } from '../../../src/model/response.js';
import { ServerStats } from '../../../src/stats/server-stats.js';
import { CasAllocator } from '../../../src/store/cas-allocator.js';
import { parseDatabaseUrl } from '../../../src/store/db-url.js';
import { MysqlKvStore } from '../../../src/store/mysql-kv-store.js';
import { createDatabasePool, type DatabasePool } from '../../../src/store/pool.js';
import { applySchema } from '../../../src/store/schema.js';
import { freshTableName, getTestDatabaseUrl, testLogger } from '../../helpers/database.js';

const k = (s: string) => Buffer.from(s);
const get = (keys: string[], extra: Partial<GetRequest> = {}): GetRequest => ({ kind: 'get', keys: keys.map(k), withCas: false, ...extra });
const store = (mode: StoreRequest['mode'], key: string, value: string, extra: Partial<StoreRequest> = {}): StoreRequest => ({
  kind: 'store', mode, key: k(key), flags: 0, exptime: 0, value: k(value), cas: 0n, noreply: false, ...extra,
});

/** Hits as [key, value] pairs (null for a miss), CAS left out. */
function hitValues(response: Response): Array<[string, string] | null> {
  if (response.kind !== 'hits') throw new Error(`expected hits, got ${response.kind}`);
  return response.items.map((item) => (item ? [item.key.toString(), item.value.toString()] : null));
}

describe('command handlers (real MysqlKvStore)', function () {
  this.timeout(60000);
  const logger = testLogger();
  let pool: DatabasePool;
  let table: string;
  let ctx: CommandContext;

  const run = (request: Request) => executeCommand(request, ctx);
  /** The counters that changed since the test began. */
  const changed = () => Object.fromEntries(Object.entries(ctx.stats.counters).filter(([, value]) => value !== 0));

  before(async () => {
    pool = createDatabasePool({
      endpoints: [parseDatabaseUrl(await getTestDatabaseUrl())], size: 4, acquireTimeoutMs: 5000, connectTimeoutMs: 5000, idleTimeoutMs: 10000, statementTimeoutMs: 10000,
    }, logger);
    table = freshTableName('cmd');
    await applySchema(pool, { engine: 'innodb', table, onlyIfMissing: false }, logger);
  });

  beforeEach(() => {
    ctx = {
      store: new MysqlKvStore(pool, new CasAllocator(pool, 10), { table, itemSizeMax: 1024 * 1024 }, logger),
      sessionLocks: null,
      client: { id: 1, locks: 0, held: new Set<string>() },
      stats: new ServerStats(),
      settings: { version: '1.6.18', flushEnabled: false, report: [['flush_enabled', 'no']] },
      logger,
      statsGroup: async (group) => [['group', group]],
    };
  });

  after(async () => {
    await pool.withConnection((c) => c.query(`DROP TABLE IF EXISTS \`${table}\``));
    await pool.close();
  });

  it('get and gets answer every key in order, duplicates included, counting hits and misses per key', async () => {
    await run(store('set', 'g1', 'one'));
    ctx.stats.reset();
    expect(hitValues(await run(get(['g1', 'g-missing', 'g1'])))).to.deep.equal([['g1', 'one'], null, ['g1', 'one']]);
    const gets = await run(get(['g1'], { withCas: true }));
    expect(gets).to.include({ kind: 'hits', withCas: true });
    expect((gets as { items: Array<{ cas: bigint }> }).items[0]!.cas > 0n).to.equal(true);
    expect(changed()).to.deep.equal({ cmd_get: 4, get_hits: 3, get_misses: 1 });
  });

  it('gat touches and counts under touch, not get', async () => {
    await run(store('set', 'gat1', 'v'));
    ctx.stats.reset();
    expect(hitValues(await run(get(['gat1', 'gat-missing'], { touchExptime: 100 })))).to.deep.equal([['gat1', 'v'], null]);
    expect(changed()).to.deep.equal({ cmd_touch: 2, touch_hits: 1, touch_misses: 1 });
  });

  it('the get batch executor answers each request of a run from one read, counting per key', async () => {
    await run(store('set', 'b1', 'x'));
    await run(store('set', 'b2', 'y'));
    ctx.stats.reset();
    const responses = await handlers.get.batch!.execute([get(['b1']), get(['b2', 'b-missing']), get(['b1'], { withCas: true })], ctx);
    expect(responses.map(hitValues)).to.deep.equal([[['b1', 'x']], [['b2', 'y'], null], [['b1', 'x']]]);
    expect(responses.map((r) => (r as { withCas: boolean }).withCas)).to.deep.equal([false, false, true]);
    expect(changed()).to.deep.equal({ cmd_get: 4, get_hits: 3, get_misses: 1 });
  });

  it('set, add, replace and cas answer their outcomes and count cas hits, bad values and misses', async () => {
    expect(await run(store('add', 's1', 'a'))).to.include({ kind: 'store', outcome: 'stored' });
    expect(await run(store('add', 's1', 'b'))).to.include({ kind: 'store', outcome: 'not_stored' });
    expect(await run(store('replace', 's-missing', 'b'))).to.include({ kind: 'store', outcome: 'not_stored' });
    expect(await run(store('replace', 's1', 'c'))).to.include({ kind: 'store', outcome: 'stored' });
    const [item] = (await run(get(['s1'], { withCas: true })) as { items: Array<{ cas: bigint }> }).items;
    expect(await run(store('cas', 's1', 'd', { cas: item!.cas + 1000n }))).to.include({ kind: 'store', outcome: 'exists' });
    const stored = await run(store('cas', 's1', 'e', { cas: item!.cas }));
    expect(stored).to.include({ kind: 'store', outcome: 'stored' });
    expect((stored as { cas: bigint }).cas > item!.cas).to.equal(true);
    expect(await run(store('cas', 's-missing', 'f', { cas: 5n }))).to.include({ kind: 'store', outcome: 'not_found' });
    expect(hitValues(await run(get(['s1'])))).to.deep.equal([['s1', 'e']]);
    expect(changed()).to.deep.include({ cmd_set: 7, cas_hits: 1, cas_badval: 1, cas_misses: 1 });
  });

  it('the set batch executor writes a run in order, the later of two sets of a key winning', async () => {
    const responses = await handlers.store.batch!.execute([store('set', 'm1', 'first'), store('set', 'm2', 'x'), store('set', 'm1', 'second')], ctx);
    expect(responses.map((r) => r.kind === 'store' && r.outcome)).to.deep.equal(['stored', 'stored', 'stored']);
    expect(changed()).to.deep.equal({ cmd_set: 3 });
    expect(hitValues(await run(get(['m1', 'm2'])))).to.deep.equal([['m1', 'second'], ['m2', 'x']]);
  });

  it('delete answers deleted or not found and counts both', async () => {
    await run(store('set', 'd1', 'v'));
    expect(await run({ kind: 'delete', key: k('d1'), noreply: false })).to.deep.equal({ kind: 'delete', outcome: 'deleted' });
    expect(await run({ kind: 'delete', key: k('d1'), noreply: false })).to.deep.equal({ kind: 'delete', outcome: 'not_found' });
    expect(changed()).to.deep.include({ delete_hits: 1, delete_misses: 1 });
  });

  it('incr and decr answer the new value, not found or non-numeric, counting hits and misses', async () => {
    await run(store('set', 'n1', '10'));
    await run(store('set', 'n2', 'ten'));
    ctx.stats.reset();
    const arith = (key: string, incr: boolean, delta: bigint): Request => ({ kind: 'arith', incr, key: k(key), delta, noreply: false });
    expect(await run(arith('n1', true, 5n))).to.include({ kind: 'arith', outcome: 'ok', value: 15n });
    expect(await run(arith('n1', false, 20n))).to.include({ kind: 'arith', outcome: 'ok', value: 0n });
    expect(await run(arith('n-missing', true, 1n))).to.deep.equal({ kind: 'arith', outcome: 'not_found' });
    expect(await run(arith('n-missing', false, 1n))).to.deep.equal({ kind: 'arith', outcome: 'not_found' });
    expect(await run(arith('n2', true, 1n))).to.deep.equal({ kind: 'arith', outcome: 'non_numeric' });
    expect(changed()).to.deep.equal({ incr_hits: 1, decr_hits: 1, incr_misses: 1, decr_misses: 1 });
  });

  it('touch answers touched or not found and counts under touch', async () => {
    await run(store('set', 't1', 'v'));
    ctx.stats.reset();
    expect(await run({ kind: 'touch', key: k('t1'), exptime: 100, noreply: false })).to.deep.equal({ kind: 'touch', outcome: 'touched' });
    expect(await run({ kind: 'touch', key: k('t-missing'), exptime: 100, noreply: false })).to.deep.equal({ kind: 'touch', outcome: 'not_found' });
    expect(changed()).to.deep.equal({ cmd_touch: 2, touch_hits: 1, touch_misses: 1 });
  });

  it('flush_all, turned off, is refused and counted, and leaves the items', async () => {
    await run(store('set', 'f1', 'kept'));
    ctx.stats.reset();
    expect(await run({ kind: 'flush', delay: 0, noreply: false })).to.deep.equal({ kind: 'forbidden', message: 'flush_all not allowed' });
    expect(changed()).to.deep.equal({ cmd_flush: 1 });
    expect(hitValues(await run(get(['f1'])))).to.deep.equal([['f1', 'kept']]);
  });

  it('answers an unknown stats group as an unknown command, sizes empty, items and slabs from the gateway\'s state', async () => {
    expect(await run({ kind: 'stats', group: 'bogus' })).to.deep.equal({ kind: 'unknownCommand' });
    expect(await run({ kind: 'stats', group: 'sizes' })).to.deep.equal({ kind: 'stats', entries: [] });
    expect(await run({ kind: 'stats', group: '' })).to.deep.equal({ kind: 'stats', entries: [['group', 'general']] });
    expect(await run({ kind: 'stats', group: 'items' })).to.deep.equal({ kind: 'stats', entries: [['group', 'items']] });
    expect(await run({ kind: 'stats', group: 'slabs extra' })).to.deep.equal({ kind: 'stats', entries: [['group', 'slabs']] });
    expect(await run({ kind: 'stats', group: 'settings' })).to.deep.equal({ kind: 'stats', entries: [['flush_enabled', 'no']] });
  });
});
