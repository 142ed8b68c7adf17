import { expect } from 'chai';
import { ConcurrentChangeError, DatabaseQueryError, DatabaseUnavailableError } from '../../../src/store/errors.js';
import type { DatabasePool } from '../../../src/store/pool.js';
import { UNKNOWN_OUTCOME_MESSAGE, withRetry, type RetryPolicy } from '../../../src/store/retry.js';
import { testLogger } from '../../helpers/database.js';

/** Only what the retry policy reads of a pool: whether any node is healthy, and its counters. */
function fakePool(down = false): DatabasePool {
  return {
    down,
    counters: { retries: 0, unknownOutcomes: 0 },
    withConnection: () => Promise.reject(new Error('not used')),
    health: () => { throw new Error('not used'); },
    close: async () => undefined,
  };
}

const serverError = (code: string, errno: number) => Object.assign(new Error(code), { code, errno });
const lostAfterSend = () => new DatabaseUnavailableError('connection lost', { maybeApplied: true });
const neverSent = () => new DatabaseUnavailableError('connection refused', { maybeApplied: false });

/** Runs withRetry over attempts that fail with the given errors in turn, then succeed. */
async function run(policy: RetryPolicy, failures: unknown[], pool = fakePool(), maxAttempts = 5) {
  let calls = 0;
  try {
    const value = await withRetry(pool, testLogger(), policy, async () => {
      const failure = failures[calls++];
      if (failure !== undefined) throw failure;
      return 'ok';
    }, maxAttempts);
    return { value, calls, pool };
  } catch (error) {
    return { error, calls, pool };
  }
}

describe('withRetry', () => {
  for (const policy of ['idempotent', 'once'] as const) {
    it(`${policy}: reruns work the server rolled back (1213, 1205, NDB 1297) and a concurrent creation`, async () => {
      const result = await run(policy, [
        serverError('ER_LOCK_DEADLOCK', 1213), serverError('ER_LOCK_WAIT_TIMEOUT', 1205),
        serverError('ER_GET_TEMPORARY_ERRMSG', 1297), new ConcurrentChangeError(),
      ]);
      expect(result.value).to.equal('ok');
      expect(result.calls).to.equal(5);
      expect(result.pool.counters.retries).to.equal(4);
    });

    it(`${policy}: reruns work that never reached the database while a node is healthy`, async () => {
      const result = await run(policy, [neverSent(), neverSent()]);
      expect(result.value).to.equal('ok');
      expect(result.calls).to.equal(3);
    });
  }

  it('idempotent: reruns work whose connection broke after it was sent', async () => {
    const result = await run('idempotent', [lostAfterSend()]);
    expect(result.value).to.equal('ok');
    expect(result.calls).to.equal(2);
  });

  it('once: answers "outcome unknown" instead of running it again after a connection broke mid-command', async () => {
    const result = await run('once', [lostAfterSend()]);
    expect(result.calls).to.equal(1);
    expect(result.error).to.be.instanceOf(DatabaseUnavailableError);
    expect((result.error as Error).message).to.equal(UNKNOWN_OUTCOME_MESSAGE);
    expect(result.pool.counters.unknownOutcomes).to.equal(1);
  });

  it('stops after maxAttempts and reports contention as a query error', async () => {
    const deadlocks = Array.from({ length: 10 }, () => serverError('ER_LOCK_DEADLOCK', 1213));
    const result = await run('idempotent', deadlocks, fakePool(), 3);
    expect(result.calls).to.equal(3);
    expect(result.error).to.be.instanceOf(DatabaseQueryError);
    expect((result.error as Error).message).to.match(/conflicting writes/);
  });

  it('fails at once, without retrying, while no node is healthy', async () => {
    const result = await run('idempotent', [neverSent(), neverSent()], fakePool(true));
    expect(result.calls).to.equal(1);
    expect(result.error).to.be.instanceOf(DatabaseUnavailableError);
    expect(result.pool.counters.retries).to.equal(0);
  });

  it('does not rerun errors that running again would not cure', async () => {
    const result = await run('idempotent', [serverError('ER_NO_SUCH_TABLE', 1146)]);
    expect(result.calls).to.equal(1);
    expect(result.error).to.be.instanceOf(DatabaseQueryError);
    expect((result.error as DatabaseQueryError).code).to.equal('ER_NO_SUCH_TABLE');
  });
});
