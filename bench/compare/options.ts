// The comparison's settings: what each BENCH_* environment variable sets, and the defaults.
import type { Workload } from './load.js';
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

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function numbers(value: string | undefined, name: string): number[] | undefined {
  const items = list(value);
  if (!items) return undefined;
  return items.map((item) => {
    const n = Number(item);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: not a positive whole number: ${item}`);
    return n;
  });
}

function oneOf<T extends string>(items: string[] | undefined, allowed: readonly T[], name: string): T[] | undefined {
  if (!items) return undefined;
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`${name}: ${item} is not one of ${allowed.join(', ')}`);
  return items as T[];
}

function positive(value: string | undefined, name: string, min = 0): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name}: expected a number >= ${min}, got ${value}`);
  return n;
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
  set('seconds', positive(env['BENCH_SECONDS'], 'BENCH_SECONDS', 0.1));
  set('warmupSeconds', positive(env['BENCH_WARMUP_SECONDS'], 'BENCH_WARMUP_SECONDS'));
  set('workloads', oneOf(list(env['BENCH_WORKLOADS']), ['get', 'set', 'mix'] as const, 'BENCH_WORKLOADS'));
  set('concurrencies', numbers(env['BENCH_CONCURRENCY'], 'BENCH_CONCURRENCY'));
  set('targets', oneOf(list(env['BENCH_TARGETS']), TARGET_NAMES, 'BENCH_TARGETS'));
  set('depths', numbers(env['BENCH_DEPTH'], 'BENCH_DEPTH'));
  set('keyCount', positive(env['BENCH_KEYS'], 'BENCH_KEYS', 1));
  set('valueSize', positive(env['BENCH_VALUE_SIZE'], 'BENCH_VALUE_SIZE', 1));
  set('totalConnections', positive(env['BENCH_CONNECTIONS_TOTAL'], 'BENCH_CONNECTIONS_TOTAL'));
  set('slowReaderRequests', positive(env['BENCH_SLOW_READER_REQUESTS'], 'BENCH_SLOW_READER_REQUESTS', 1));
  set('jsonPath', env['BENCH_JSON'] || undefined);
  set('gatewayArgs', env['BENCH_GATEWAY_ARGS']?.split(/\s+/).filter(Boolean));
  return options;
}
