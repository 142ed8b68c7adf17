/**
 * `npm run soak -- [--minutes M]` (default 20): the soak with failures (soak.ts), its figures
 * printed; exits 1 when a check fails.
 */
import { parseArgs } from 'node:util';
import { soak } from './soak.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '20' }, clients: { type: 'string', default: '6' } } });
const report = await soak({ minutes: Number(values.minutes), clients: Number(values.clients), log: (line) => console.error(`soak: ${line}`) });
console.log(report.lines.join('\n'));
if (report.problems.length > 0) {
  console.log(`FAILED:\n  ${report.problems.join('\n  ')}`);
  process.exit(1);
}
console.log('soak: every acknowledged write is there, every counter within bounds, RSS bounded, no fd leak');
process.exit(0);
