import { expect } from 'chai';
import { Batcher } from '../../../src/store/batcher.js';

/** A batch runner the test completes by hand, recording what each batch held. */
function manualRunner() {
  const batches: Array<{ items: number[]; finish: (error?: Error) => void }> = [];
  const run = (items: number[]) => new Promise<number[]>((resolve, reject) => {
    batches.push({ items, finish: (error) => (error ? reject(error) : resolve(items.map((i) => i * 10))) });
  });
  return { batches, run };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Batcher', () => {
  it('starts a request at once when nothing runs, and merges what arrives meanwhile', async () => {
    const { batches, run } = manualRunner();
    const batcher = new Batcher(run, { maxInFlight: 1, maxWeight: 100 });
    const first = batcher.submit(1, 1);
    expect(batches.map((b) => b.items)).to.deep.equal([[1]]);
    const rest = [2, 3, 4].map((n) => batcher.submit(n, 1));
    expect(batches).to.have.length(1);
    batches[0]!.finish();
    expect(await first).to.equal(10);
    await tick();
    expect(batches.map((b) => b.items)).to.deep.equal([[1], [2, 3, 4]]);
    batches[1]!.finish();
    expect(await Promise.all(rest)).to.deep.equal([20, 30, 40]);
  });

  it('runs up to maxInFlight batches and caps each batch by weight, keeping order', async () => {
    const { batches, run } = manualRunner();
    const batcher = new Batcher(run, { maxInFlight: 2, maxWeight: 5 });
    const results = [1, 2, 3, 4, 5, 6].map((n) => batcher.submit(n, n === 3 ? 9 : 2));
    // 1 and 2 start alone (nothing was running); then 3 (heavier than the cap) alone, 4+5 together, 6.
    expect(batches.map((b) => b.items)).to.deep.equal([[1], [2]]);
    batches[0]!.finish();
    await tick();
    expect(batches.map((b) => b.items)).to.deep.equal([[1], [2], [3]]);
    batches[1]!.finish();
    await tick();
    expect(batches.map((b) => b.items)).to.deep.equal([[1], [2], [3], [4, 5]]);
    batches[2]!.finish();
    batches[3]!.finish();
    await tick();
    batches[4]!.finish();
    expect(await Promise.all(results)).to.deep.equal([10, 20, 30, 40, 50, 60]);
  });

  it('fails every request of a failed batch, and keeps serving the next ones', async () => {
    const { batches, run } = manualRunner();
    const batcher = new Batcher(run, { maxInFlight: 1, maxWeight: 10 });
    const first = batcher.submit(1, 1);
    const merged = [batcher.submit(2, 1), batcher.submit(3, 1)];
    batches[0]!.finish();
    await first;
    await tick();
    batches[1]!.finish(new Error('database down'));
    for (const p of merged) await p.then(() => expect.fail('resolved'), (e: Error) => expect(e.message).to.equal('database down'));
    const after = batcher.submit(4, 1);
    batches[2]!.finish();
    expect(await after).to.equal(40);
  });

  describe('with a window', () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    it('holds a request that could start at once for the window, and merges what arrives within it', async () => {
      const { batches, run } = manualRunner();
      const batcher = new Batcher(run, { maxInFlight: 1, maxWeight: 100, windowMs: 40 });
      const results = [batcher.submit(1, 1)];
      await sleep(10);
      expect(batches, 'nothing starts before the window ends').to.have.length(0);
      results.push(batcher.submit(2, 1), batcher.submit(3, 1));
      await sleep(60);
      expect(batches.map((b) => b.items)).to.deep.equal([[1, 2, 3]]);
      batches[0]!.finish();
      expect(await Promise.all(results)).to.deep.equal([10, 20, 30]);
    });

    it('starts at once when the batch is full, and never holds requests that waited for a running batch', async () => {
      const { batches, run } = manualRunner();
      const batcher = new Batcher(run, { maxInFlight: 1, maxWeight: 4, windowMs: 10_000 });
      const full = [1, 2, 3, 4].map((n) => batcher.submit(n, 1));
      expect(batches.map((b) => b.items), 'a full batch does not wait').to.deep.equal([[1, 2, 3, 4]]);
      const waiting = [batcher.submit(5, 1)];
      batches[0]!.finish();
      await Promise.all(full);
      await tick();
      // 5 waited for the running batch: it starts as soon as that one is done, not after 10 s
      expect(batches.map((b) => b.items)).to.deep.equal([[1, 2, 3, 4], [5]]);
      batches[1]!.finish();
      expect(await Promise.all(waiting)).to.deep.equal([50]);
    });
  });
});
