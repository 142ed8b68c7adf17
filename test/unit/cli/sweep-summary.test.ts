import { expect } from 'chai';
import { summary } from '../../../src/cli/sweep-command.js';
import type { SweepEnd } from '../../../src/sweeper/expiry-sweeper.js';

describe('memgate sweep summary line', () => {
  const pass = (end: SweepEnd, dryRun = false) =>
    summary({ kind: 'swept', result: { rows: 25_000, batches: 25, elapsedMs: 2_000, end, dryRun } });

  it('gives rows, batches, seconds and rows per second', () => {
    expect(pass('done')).to.equal('deleted 25000 rows in 25 batches in 2.0 s (12500 rows/s)');
    expect(summary({ kind: 'swept', result: { rows: 0, batches: 0, elapsedMs: 0, end: 'done', dryRun: false } }))
      .to.equal('deleted 0 rows in 0 batches in 0.0 s (0 rows/s)');
  });

  it('says why a pass ended early, and when nothing was deleted', () => {
    expect(pass('budget')).to.equal('deleted 25000 rows in 25 batches in 2.0 s (12500 rows/s); stopped at the time budget, the rest is for the next pass');
    expect(pass('stopped')).to.match(/; stopped by a signal$/);
    expect(pass('lease_lost')).to.match(/; stopped: another sweeper took the lease over$/);
    expect(pass('done', true)).to.equal('would delete 25000 rows in 25 batches in 2.0 s (12500 rows/s); dry run, nothing deleted');
    expect(summary({ kind: 'busy', held: { holder: 'web2:77:beef', secondsLeft: 12 } }))
      .to.equal('skipped: another sweeper holds the lease (web2:77:beef, 12 s left)');
  });
});
