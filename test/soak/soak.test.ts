/** The soak with failures, one minute of it; `npm run soak` runs 20. */
import { expect } from 'chai';
import { requirePhpExtensions } from '../e2e/php-sessions/harness.js';
import { soak } from './soak.js';

describe('soak: one minute of mixed load with a database restart and a gateway SIGKILL', function () {
  this.timeout(240_000);

  it('loses no acknowledged write, keeps counters exact, and leaks neither memory nor fds', async function () {
    await requirePhpExtensions();
    const report = await soak({ minutes: 1 });
    console.log(report.lines.map((line) => `      ${line}`).join('\n'));
    expect(report.problems).to.deep.equal([]);
  });
});
