import { expect } from 'chai';
import { AccessRecorder, type PendingAccess } from '../../../src/store/access-recorder.js';
import { testLogger } from '../../helpers/database.js';

const k = (s: string) => Buffer.from(s);

describe('AccessRecorder', () => {
  let writes: PendingAccess[][];
  const recorder = (options = {}, write?: (a: PendingAccess[]) => Promise<void>) => new AccessRecorder(
    write ?? (async (accesses) => {
      writes.push(accesses.map((a) => ({ ...a })));
    }),
    testLogger(),
    options,
  );

  beforeEach(() => {
    writes = [];
  });

  it('writes the reads of an interval together, counting a second read of the same version', async () => {
    const r = recorder({ intervalMs: 5 });
    r.record(k('a'), 1n);
    r.record(k('b'), 2n);
    r.record(k('a'), 1n);
    r.record(k('a'), 1n);
    expect(writes).to.have.length(0);
    expect(r.has(k('a'))).to.equal(true);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(writes).to.deep.equal([[{ key: k('a'), cas: 1n, reads: 2 }, { key: k('b'), cas: 2n, reads: 1 }]]);
    expect(r.has(k('a'))).to.equal(false);
  });

  it('starts the count over for a new version of the item', async () => {
    const r = recorder({ intervalMs: 5 });
    r.record(k('a'), 1n);
    r.record(k('a'), 2n);
    await r.settle();
    expect(writes).to.deep.equal([[{ key: k('a'), cas: 2n, reads: 1 }]]);
  });

  it('settle writes at once and waits for a write in flight', async () => {
    let release: () => void = () => undefined;
    const r = recorder({ intervalMs: 60_000 }, async (accesses) => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      writes.push(accesses);
    });
    r.record(k('a'), 1n);
    const first = r.settle();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(r.has(k('a')), 'being written').to.equal(true);
    r.record(k('b'), 2n);
    let settled = false;
    const second = r.settle().then(() => {
      settled = true;
    });
    release();
    await first;
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(settled).to.equal(false);
    release();
    await second;
    expect(writes.map((w) => w.map((a) => a.key.toString()))).to.deep.equal([['a'], ['b']]);
  });

  it('bounds the queue: a full queue starts a write, and beyond the cap reads go unrecorded', async () => {
    const r = recorder({ intervalMs: 60_000, flushAt: 2, maxPending: 3 });
    r.record(k('a'), 1n);
    r.record(k('b'), 2n);
    r.record(k('c'), 3n);
    r.record(k('d'), 4n);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(writes.flat().map((a) => a.key.toString()), 'written without waiting for the interval').to.deep.equal(['a', 'b', 'c']);
    r.record(k('e'), 5n);
    await r.settle();
    expect(writes.flat().map((a) => a.key.toString())).to.deep.equal(['a', 'b', 'c', 'e']);
  });

  it('survives a failed write', async () => {
    const r = recorder({ intervalMs: 1 }, async () => {
      throw new Error('database down');
    });
    r.record(k('a'), 1n);
    await r.settle();
    expect(r.has(k('a'))).to.equal(false);
  });
});
