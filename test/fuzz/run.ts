/**
 * `npm run fuzz -- [--seed N] [--minutes M] [--protocol text|binary] [--property-runs R]`:
 * the parser properties with many more cases than `npm test`, then differential fuzzing
 * against memcached 1.6.18 for M minutes (default 5). Exits 1 when a property fails or a
 * difference is found; the minimal reproducer is printed.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { stopTestDatabase } from '../helpers/database.js';
import { fuzz } from './differential-fuzz.js';
import { startPair } from './differential-pair.js';
import type { Protocol } from './differential-pair.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    minutes: { type: 'string', default: '5' },
    protocol: { type: 'string', multiple: true },
    'property-runs': { type: 'string', default: '20000' },
  },
});
const seed = Number(values.seed);
const minutes = Number(values.minutes);
const protocols = (values.protocol ?? ['text', 'binary']) as Protocol[];

console.log(`fuzz: seed ${seed}, ${minutes} min of differential fuzzing (${protocols.join(', ')}), ${values['property-runs']} runs per parser property`);
const properties = spawnSync(
  'npx',
  ['mocha', '--no-config', '--timeout', '0', '--exit', 'dist/test/unit/protocol/parser-properties.test.js'],
  { stdio: 'inherit', env: { ...process.env, MEMGATE_PROPERTY_RUNS: values['property-runs'], MEMGATE_PROPERTY_SEED: String(seed) } },
);

const pair = await startPair();
let failed = properties.status !== 0;
try {
  const started = Date.now();
  const results = await fuzz(pair, { seed, timeLimitMs: minutes * 60_000, protocols, log: (line) => console.log(line) });
  const total = results.reduce((n, r) => n + r.sequences, 0);
  console.log(`fuzz: ${total} sequences in ${((Date.now() - started) / 1000).toFixed(0)} s, ${results.filter((r) => r.failure).length} protocol(s) with a difference`);
  failed ||= results.some((r) => r.failure !== undefined);
} finally {
  await pair.stop();
  await stopTestDatabase();
}
process.exit(failed ? 1 : 0);
