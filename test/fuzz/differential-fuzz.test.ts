/**
 * The differential fuzzer in `npm test`: a fixed seed for a bounded time, so a run is
 * repeatable and short. `npm run fuzz -- --seed N --minutes M` runs longer with any seed.
 */
import { expect } from 'chai';
import { fuzz } from './differential-fuzz.js';
import { startPair, type Pair } from './differential-pair.js';

const SEED = 1919;
const TIME_LIMIT_MS = 30_000;

describe(`differential fuzzing vs memcached 1.6.18 (seed ${SEED}, ${TIME_LIMIT_MS / 1000} s)`, function () {
  this.timeout(TIME_LIMIT_MS + 120_000);
  let pair: Pair;

  before(async function () {
    this.timeout(120_000);
    pair = await startPair();
  });

  after(async () => pair?.stop());

  it('answers every random sequence as memcached does', async function () {
    const lines: string[] = [];
    const results = await fuzz(pair, { seed: SEED, timeLimitMs: TIME_LIMIT_MS, log: (line) => lines.push(line) });
    for (const result of results) {
      expect(result.failure, `${result.protocol} after ${result.sequences} sequences:\n${result.failure}`).to.equal(undefined);
      // A time-bounded run must still have done something: a stuck harness is a failure too.
      expect(result.sequences, result.protocol).to.be.greaterThan(5);
    }
    console.log(`      ${lines.join('; ')}`);
  });
});
