import { expect } from 'chai';
import { ItemEstimate } from '../../../src/stats/item-estimate.js';
import type { DatabasePool } from '../../../src/store/pool.js';
import { sleep } from '../../helpers/wait.js';

/** A pool whose one query answers the table's rows and bytes as they are set here, or fails. */
function fakePool() {
  const state = { rows: 0, bytes: 0, queries: 0, down: false };
  const pool = {
    async withConnection<T>(fn: (c: unknown) => Promise<T>): Promise<T> {
      state.queries++;
      if (state.down) throw new Error('database unavailable');
      return fn({ execute: async () => [[{ r: String(state.rows), b: state.bytes }], []] });
    },
  } as unknown as DatabasePool;
  return { pool, state };
}

describe('ItemEstimate (curr_items and bytes)', () => {
  it('waits for the first estimate, then answers the last one and refreshes it in the background once it is old', async () => {
    const { pool, state } = fakePool();
    const estimate = new ItemEstimate(pool, 'kv', 50);
    state.rows = 3;
    state.bytes = 16384;
    expect(await estimate.current()).to.deep.equal({ rows: 3, bytes: 16384 });
    state.rows = 4;
    expect(await estimate.current()).to.deep.equal({ rows: 3, bytes: 16384 });
    expect(state.queries).to.equal(1);
    await sleep(60);
    // old: this answer is the last estimate, and the next one is on its way
    expect(await estimate.current()).to.deep.equal({ rows: 3, bytes: 16384 });
    await sleep(5);
    expect(await estimate.current()).to.deep.equal({ rows: 4, bytes: 16384 });
    expect(state.queries).to.equal(2);
  });

  it('keeps the last estimate while the database is down, and reads 0 before it ever had one', async () => {
    const { pool, state } = fakePool();
    state.down = true;
    const estimate = new ItemEstimate(pool, 'kv', 0);
    expect(await estimate.current()).to.deep.equal({ rows: 0, bytes: 0 });
    state.down = false;
    state.rows = 7;
    expect(await estimate.current()).to.deep.equal({ rows: 7, bytes: 0 });
    state.down = true;
    expect(await estimate.current()).to.deep.equal({ rows: 7, bytes: 0 });
  });
});
