// The comparison's settings: what each BENCH_* environment variable sets, and the defaults.
import type { Workload } from './load.js';
import { atLeast, members, wholeNumbers } from '../env-options.js';
import { logLine } from '../lifecycle.js';
import { TARGET_NAMES, type TargetName } from './report.js';

export interface ComparisonOptions {
  /** Measured seconds per cell (BENCH_SECONDS). */
  seconds: number;
  /** Unmeasured seconds before each cell: connections open, statements get prepared. */
  warmupSeconds: number;
  workloads: Workload[];
  concurrencies: number[];
  targets: TargetName[];
  /**
   * Requests in flight per connection: pipelined for the memcached-protocol targets; raw SQL
   * gets as many callers per pool connection, queued by mysql2 (the same offered load).
   */
  depths: number[];
  keyCount: number;
  valueSize: number;
  /** Connections held open in part 3, the 16 loaded ones included; 0 skips part 3. */
  totalConnections: number;
  slowReaderRequests: number;
  jsonPath: string;
  /** Extra `memgate serve` flags (BENCH_GATEWAY_ARGS, split on spaces). */
  gatewayArgs: string[];
  /** Progress lines (default: stderr). The table goes to stdout. */
  log: (line: string) => void;
}

export const DEFAULT_OPTIONS: ComparisonOptions = {
  seconds: 3,
  warmupSeconds: 0.5,
  workloads: ['get', 'set', 'mix'],
  concurrencies: [1, 16, 64],
  targets: ['raw-sql', 'memgate-text', 'memgate-binary', 'memcached-text'],
  // 1: a client that waits for each reply; 4: light pipelining; 16: a pipelining load
  // generator (memtier_benchmark --pipeline=16), the "pipelining-capable" one.
  depths: [1, 4, 16],
  keyCount: 10_000,
  valueSize: 1024,
  totalConnections: 5000,
  slowReaderRequests: 1_000_000,
  jsonPath: 'bench-results.json',
  gatewayArgs: [],
  log: logLine,
};

/** Options from BENCH_* environment variables; unset ones keep their defaults. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<ComparisonOptions> {
  const options: Partial<ComparisonOptions> = {};
  const set = <K extends keyof ComparisonOptions>(key: K, value: ComparisonOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value;
  };
  set('seconds', atLeast(env['BENCH_SECONDS'], 'BENCH_SECONDS', 0.1));
  set('warmupSeconds', atLeast(env['BENCH_WARMUP_SECONDS'], 'BENCH_WARMUP_SECONDS', 0));
  set('workloads', members(env['BENCH_WORKLOADS'], ['get', 'set', 'mix'] as const, 'BENCH_WORKLOADS'));
  set('concurrencies', wholeNumbers(env['BENCH_CONCURRENCY'], 'BENCH_CONCURRENCY'));
  set('targets', members(env['BENCH_TARGETS'], TARGET_NAMES, 'BENCH_TARGETS'));
  set('depths', wholeNumbers(env['BENCH_DEPTH'], 'BENCH_DEPTH'));
  set('keyCount', atLeast(env['BENCH_KEYS'], 'BENCH_KEYS', 1));
  set('valueSize', atLeast(env['BENCH_VALUE_SIZE'], 'BENCH_VALUE_SIZE', 1));
  set('totalConnections', atLeast(env['BENCH_CONNECTIONS_TOTAL'], 'BENCH_CONNECTIONS_TOTAL', 0));
  set('slowReaderRequests', atLeast(env['BENCH_SLOW_READER_REQUESTS'], 'BENCH_SLOW_READER_REQUESTS', 1));
  set('jsonPath', env['BENCH_JSON'] || undefined);
  set('gatewayArgs', env['BENCH_GATEWAY_ARGS']?.split(/\s+/).filter(Boolean));
  return options;
}
