import { expect } from 'chai';
import type { CommandContext } from '../../../src/commands/handler.js';
import { sessionKeys } from '../../../src/commands/lock-keys.js';
import { requestRunner } from '../../../src/commands/request-runner.js';
import type { SessionLocks } from '../../../src/store/session-locks.js';
import type { GetRequest, Request, StoreRequest } from '../../../src/model/request.js';
import { ServerStats } from '../../../src/stats/server-stats.js';
import { batchPolicy } from '../../../src/store/batch-policy.js';
import { DatabaseQueryError, DatabaseUnavailableError } from '../../../src/store/errors.js';
import type { KvStore } from '../../../src/store/kv-store.js';
import { captureLog } from '../../helpers/database.js';

const limits = batchPolicy({ maxBatchKeys: 256, maxBatchBytes: 1024 * 1024 }).run;
const k = (s: string) => Buffer.from(s);
const get = (...keys: string[]): GetRequest => ({ kind: 'get', keys: keys.map(k), withCas: false });
const set = (key: string, bytes = 1): StoreRequest => ({
  kind: 'store', mode: 'set', key: k(key), flags: 0, exptime: 0, value: Buffer.alloc(bytes), cas: 0n, noreply: false,
});

function context(store: Partial<KvStore>, logger = captureLog().logger): CommandContext {
  return {
    store: store as KvStore,
    sessionLocks: null,
    client: { id: 1, locks: 0, held: new Set<string>() },
    stats: new ServerStats(),
    settings: { version: 'test', flushEnabled: false, report: [] },
    logger,
    statsGroup: async () => [],
  };
}

/** How many of `queue` the runner would run together with the first. */
const runLength = (queue: Array<Request | undefined>) =>
  requestRunner(context({}), limits).runLength((i) => queue[i]);

describe('requestRunner', () => {
  describe('runLength: which queued requests share one store call', () => {
    it('runs plain gets together up to the run key limit; the key that overflows starts the next run', () => {
      const keys = limits.maxGetKeys;
      expect(runLength([get('a'), get('b', 'c'), get('d')])).to.equal(3);
      expect(runLength(Array.from({ length: keys + 5 }, (_, i) => get(`k${i}`)))).to.equal(keys);
      expect(runLength([get(...Array.from({ length: keys - 1 }, (_, i) => `k${i}`)), get('x', 'y'), get('z')])).to.equal(1);
      // A single request over the limit still runs, alone.
      expect(runLength([get(...Array.from({ length: keys + 1 }, (_, i) => `k${i}`)), get('x')])).to.equal(1);
    });

    it('runs plain sets together up to the run set count and byte limits', () => {
      expect(runLength(Array.from({ length: limits.maxSets + 3 }, (_, i) => set(`k${i}`)))).to.equal(limits.maxSets);
      const half = Math.floor(limits.maxSetBytes / 2);
      expect(runLength([set('a', half), set('b', half), set('c', 1)])).to.equal(2);
    });

    it('never joins gets with touch, sets with a CAS or another mode, or different kinds', () => {
      expect(runLength([get('a'), { ...get('b'), touchExptime: 10 }])).to.equal(1);
      expect(runLength([{ ...get('a'), touchExptime: 10 }, { ...get('b'), touchExptime: 10 }])).to.equal(1);
      expect(runLength([set('a'), { ...set('b'), cas: 5n }])).to.equal(1);
      expect(runLength([set('a'), { ...set('b'), mode: 'add' }])).to.equal(1);
      expect(runLength([{ ...set('a'), mode: 'add' }, { ...set('b'), mode: 'add' }])).to.equal(1);
      expect(runLength([get('a'), set('b')])).to.equal(1);
      expect(runLength([get('a'), undefined, get('b')])).to.equal(1);
      expect(runLength([{ kind: 'version' }, { kind: 'version' }])).to.equal(1);
    });

    it('runs a request naming a session lock key alone, and ends a run before one', () => {
      const withLocks = context({});
      withLocks.sessionLocks = { ...sessionKeys('*.lock', ''), locks: {} as SessionLocks, waitMs: 0 };
      const lengthWithLocks = (queue: Request[]) => requestRunner(withLocks, limits).runLength((i) => queue[i]);
      expect(lengthWithLocks([get('a.lock'), get('b')])).to.equal(1);
      expect(lengthWithLocks([get('a', 'b.lock'), get('c')])).to.equal(1);
      expect(lengthWithLocks([get('a'), get('b'), get('c.lock'), get('d')])).to.equal(2);
      expect(lengthWithLocks([set('a'), set('b.lock')])).to.equal(1);
      // Without session locks the same keys are items like any other.
      expect(runLength([get('a'), get('b'), get('c.lock'), get('d')])).to.equal(4);
    });

    it('runs alone a set of session data whose lock the connection does not hold, and batches the holder\'s', () => {
      const ctx = context({});
      ctx.sessionLocks = { ...sessionKeys('memc.sess.key.lock.*,*.lock', 'memc.sess.key.*,*'), locks: {} as SessionLocks, waitMs: 0 };
      const length = (queue: Request[]) => requestRunner(ctx, limits).runLength((i) => queue[i]);
      const quiet = (key: string): StoreRequest => ({ ...set(key), noreply: true });
      // php-memcached's replica copy (SETQ) is checked; its own write, through any server, is not.
      expect(length([quiet('memc.sess.key.s1'), set('memc.sess.key.s2')])).to.equal(1);
      expect(length([set('x'), quiet('memc.sess.key.s1')])).to.equal(1);
      expect(length([set('memc.sess.key.s1'), set('memc.sess.key.s2')])).to.equal(2);
      expect(length([quiet('s1'), quiet('s2')])).to.equal(2);
      // pecl memcache's write to a redundant server: the data, then its lock set to 0.
      expect(length([set('s1'), set('s1.lock'), set('x')])).to.equal(1);
      expect(length([set('s1'), set('s2'), set('s2.lock')])).to.equal(1);
      expect(length([set('s1'), set('s2'), set('x')])).to.equal(3);
      ctx.client.held.add('memc.sess.key.lock.s1');
      ctx.client.held.add('s2.lock');
      expect(length([quiet('memc.sess.key.s1'), set('s2'), set('s2.lock')])).to.equal(2);
    });
  });

  describe('run: failures become SERVER_ERROR replies', () => {
    it('answers a database failure with its message on one line, for every request of the run', async () => {
      const unavailable = requestRunner(context({
        get: async () => { throw new DatabaseUnavailableError('database unavailable'); },
      }), limits);
      expect(await unavailable.run([get('a'), get('b')])).to.deep.equal([
        { kind: 'serverError', message: 'database unavailable' },
        { kind: 'serverError', message: 'database unavailable' },
      ]);
      const query = requestRunner(context({
        delete: async () => { throw new DatabaseQueryError('query failed:\r\nsecond line\nthird', 'ER_X'); },
      }), limits);
      expect(await query.run([{ kind: 'delete', key: k('a'), noreply: false }])).to.deep.equal([
        { kind: 'serverError', message: 'query failed: second line third' },
      ]);
    });

    it('answers any other failure "internal error" and logs it as a failed command', async () => {
      const log = captureLog();
      const runner = requestRunner(context({ setMany: async () => { throw new TypeError('a bug'); } }, log.logger), limits);
      expect(await runner.run([set('a'), set('b')])).to.deep.equal([
        { kind: 'serverError', message: 'internal error' },
        { kind: 'serverError', message: 'internal error' },
      ]);
      expect(log.text()).to.include('command failed').and.to.include('a bug');
    });

    it('runs one request through its handler and a run through the batch executor', async () => {
      const calls: string[] = [];
      const runner = requestRunner(context({
        get: async (keys) => {
          calls.push(`get ${keys.join(',')}`);
          return new Map();
        },
      }), limits);
      const misses = (n: number) => ({ kind: 'hits', items: Array(n).fill(null), withCas: false });
      expect(await runner.run([get('a', 'b')])).to.deep.equal([misses(2)]);
      expect(await runner.run([get('c'), get('d', 'e')])).to.deep.equal([misses(1), misses(2)]);
      expect(calls).to.deep.equal(['get a,b', 'get c,d,e']);
    });
  });
});
