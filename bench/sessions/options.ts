// The session benchmark's settings: what each BENCH_SESSIONS_* environment variable sets, the
// defaults, and the workloads (processes × ids) a run goes through.

import { atLeast, members, wholeNumbers } from '../env-options.js';
import { logLine } from '../lifecycle.js';

/** The session stores compared, in the order the table lists them. */
export const STORE_NAMES = ['memcached', 'memgate', 'redis-always', 'redis-everysec', 'pdo'] as const;
export type StoreName = (typeof STORE_NAMES)[number];

/** distinct: each process rotates over ids of its own; shared: every process uses one id. */
export type IdMode = 'distinct' | 'shared';
export const ID_MODES: readonly IdMode[] = ['distinct', 'shared'];

/**
 * How PHP reaches each store, and memgate and PdoSessionHandler reach MariaDB: TCP on
 * 127.0.0.1, or unix-domain sockets (the layout of one web host that runs its own stores).
 * Every store of a run uses the same one.
 */
export const TRANSPORTS = ['tcp', 'unix'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface Workload {
  procs: number;
  ids: IdMode;
}

export interface SessionBenchOptions {
  /** Timed seconds per cell (BENCH_SESSIONS_SECONDS). */
  seconds: number;
  /** Untimed seconds before the window: PHP processes start, sessions get created (BENCH_SESSIONS_WARMUP_SECONDS). */
  warmupSeconds: number;
  stores: StoreName[];
  /** PHP processes per workload (BENCH_SESSIONS_PROCS). */
  procs: number[];
  ids: IdMode[];
  /** Session ids each process rotates over in the distinct-ids workload. */
  idsPerProcess: number;
  /** Seed of the stores' order per workload (BENCH_SESSIONS_SEED). */
  seed: number;
  jsonPath: string;
  /** BENCH_SESSIONS_TRANSPORT */
  transport: Transport;
  /** Extra `memgate serve` flags (BENCH_GATEWAY_ARGS, split on spaces). */
  gatewayArgs: string[];
  /** Progress lines (default: stderr). The table goes to stdout. */
  log: (line: string) => void;
}

export const DEFAULT_OPTIONS: SessionBenchOptions = {
  seconds: 8,
  warmupSeconds: 1.5,
  stores: [...STORE_NAMES],
  procs: [8, 32],
  ids: [...ID_MODES],
  idsPerProcess: 16,
  seed: 1,
  jsonPath: 'bench-sessions.json',
  transport: 'tcp',
  gatewayArgs: [],
  log: logLine,
};

/** Options from BENCH_SESSIONS_* (and BENCH_GATEWAY_ARGS); unset ones keep their defaults. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<SessionBenchOptions> {
  const options: Partial<SessionBenchOptions> = {};
  const set = <K extends keyof SessionBenchOptions>(key: K, value: SessionBenchOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value;
  };
  set('seconds', atLeast(env['BENCH_SESSIONS_SECONDS'], 'BENCH_SESSIONS_SECONDS', 0.5));
  set('warmupSeconds', atLeast(env['BENCH_SESSIONS_WARMUP_SECONDS'], 'BENCH_SESSIONS_WARMUP_SECONDS', 0));
  set('stores', members(env['BENCH_SESSIONS_STORES'], STORE_NAMES, 'BENCH_SESSIONS_STORES', true));
  set('procs', wholeNumbers(env['BENCH_SESSIONS_PROCS'], 'BENCH_SESSIONS_PROCS'));
  set('ids', members(env['BENCH_SESSIONS_IDS'], ID_MODES, 'BENCH_SESSIONS_IDS', true));
  const seed = atLeast(env['BENCH_SESSIONS_SEED'], 'BENCH_SESSIONS_SEED', 0);
  set('seed', seed === undefined ? undefined : Math.floor(seed));
  set('jsonPath', env['BENCH_SESSIONS_JSON'] || undefined);
  const transports = members(env['BENCH_SESSIONS_TRANSPORT'], TRANSPORTS, 'BENCH_SESSIONS_TRANSPORT');
  if (transports && transports.length > 1) throw new Error('BENCH_SESSIONS_TRANSPORT: one of tcp, unix per run');
  set('transport', transports?.[0]);
  set('gatewayArgs', env['BENCH_GATEWAY_ARGS']?.split(/\s+/).filter(Boolean));
  return options;
}

/** The run's workloads, in the order they run: by processes, then ids. */
export function workloadsOf(options: Pick<SessionBenchOptions, 'procs' | 'ids'>): Workload[] {
  return options.procs.flatMap((procs) => options.ids.map((ids) => ({ procs, ids })));
}

/** Seconds a cell takes besides its window: PHP start-up, the stragglers' last view, counters. */
export const CELL_OVERHEAD_SECONDS = 2;

/** Roughly how long the cells take, servers' start-up not included. */
export function estimateSeconds(options: Pick<SessionBenchOptions, 'procs' | 'ids' | 'stores' | 'seconds' | 'warmupSeconds'>): number {
  const cells = workloadsOf(options).length * options.stores.length;
  return cells * (options.seconds + options.warmupSeconds + CELL_OVERHEAD_SECONDS);
}
