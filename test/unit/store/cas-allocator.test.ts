import { expect } from 'chai';
import { CasAllocator } from '../../../src/store/cas-allocator.js';
import { DatabaseUnavailableError } from '../../../src/store/errors.js';
import type { DatabasePool } from '../../../src/store/pool.js';

/** A pool whose every statement fails the way a connection lost after sending fails. */
function poolLosingConnections(): DatabasePool {
  return {
    down: false,
    counters: { retries: 0, unknownOutcomes: 0 },
    withConnection: () => Promise.reject(new DatabaseUnavailableError('connection lost', { maybeApplied: true })),
    health: () => { throw new Error('not used'); },
    close: async () => undefined,
  };
}

describe('CasAllocator', () => {
  it('reports a lost block reservation as not applied: the command waiting for a CAS never ran', async () => {
    const error = await new CasAllocator(poolLosingConnections(), 10).allocate().then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(DatabaseUnavailableError);
    expect((error as DatabaseUnavailableError).maybeApplied).to.equal(false);
  });
});
