import { expect } from 'chai';
import { readinessCheck } from '../../../src/admin/readiness.js';
import { sleep } from '../../helpers/wait.js';

describe('readinessCheck', () => {
  it('is ready while the probe succeeds, not ready with its reason while it fails', async () => {
    let failure: Error | null = null;
    const check = readinessCheck(async () => {
      if (failure) throw failure;
    }, { reuseMs: 0, timeoutMs: 1000 });
    expect(await check()).to.deep.equal({ ready: true });
    failure = new Error('database unavailable (connect ECONNREFUSED)');
    expect(await check()).to.deep.equal({ ready: false, reason: 'database unavailable (connect ECONNREFUSED)' });
    failure = null;
    expect(await check()).to.deep.equal({ ready: true });
  });

  it('is not ready when the probe gets no answer in time', async () => {
    const check = readinessCheck(() => new Promise<void>(() => undefined), { reuseMs: 0, timeoutMs: 50 });
    const started = Date.now();
    const readiness = await check();
    expect(readiness.ready).to.equal(false);
    expect(readiness.reason).to.match(/within 50 ms/);
    expect(Date.now() - started).to.be.lessThan(1000);
  });

  it('runs one probe for callers that ask at once, and reuses its answer for reuseMs', async () => {
    let probes = 0;
    const check = readinessCheck(async () => {
      probes++;
      await sleep(20);
    }, { reuseMs: 100, timeoutMs: 1000 });
    await Promise.all([check(), check(), check()]);
    expect(probes).to.equal(1);
    await check();
    expect(probes).to.equal(1);
    await sleep(120);
    await check();
    expect(probes).to.equal(2);
  });
});
