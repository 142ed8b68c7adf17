import { expect } from 'chai';
import { retryInBackground } from '../../../src/lifecycle/retry-in-background.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('retryInBackground', () => {
  it('retries until the task succeeds, reporting at a steady pace meanwhile, then reports that it is done', async () => {
    let attempts = 0;
    const reports: number[] = [];
    let doneAfter: number | undefined;
    const stop = retryInBackground(async () => {
      attempts++;
      if (attempts < 30) throw new Error('down');
    }, {
      retryMs: 5, reportEveryMs: 40,
      onStillFailing: (error, ms) => {
        expect((error as Error).message).to.equal('down');
        reports.push(ms);
      },
      onDone: (ms) => (doneAfter = ms),
    });
    for (let waited = 0; doneAfter === undefined && waited < 3000; waited += 10) await sleep(10);
    stop();
    expect(doneAfter, 'done').to.be.a('number');
    expect(attempts).to.equal(30);
    expect(reports.length, `reports at ${reports.join(', ')} ms`).to.be.at.least(2);
    for (let i = 1; i < reports.length; i++) expect(reports[i]! - reports[i - 1]!).to.be.at.least(40);
  });

  it('stops trying once stopped', async () => {
    let attempts = 0;
    const stop = retryInBackground(async () => {
      attempts++;
      throw new Error('down');
    }, { retryMs: 5, reportEveryMs: 1000, onStillFailing: () => undefined, onDone: () => undefined });
    await sleep(30);
    stop();
    const seen = attempts;
    expect(seen, 'attempts before stop()').to.be.greaterThan(0);
    await sleep(30);
    expect(attempts).to.be.at.most(seen + 1);
  });
});
