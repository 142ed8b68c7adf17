// A cell's figures from what its PHP processes printed and from the counters read around it:
// views/s and latency percentiles over every timed view, failures, lost increments of the
// shared id, and per-view costs (database counters, CPU of each server process).
import { summarize } from '../compare/stats.js';
import type { IdMode, StoreName } from './options.js';

/** The JSON line a worker prints at the end of its views (php/worker.php). */
export interface WorkerOutput {
  /** Views started inside the timed window. */
  views: number;
  /** Views in all, warm-up included. */
  allViews: number;
  /** Timed views that failed: session_start() false, or any PHP warning during the view. */
  failures: number;
  /** Views (warm-up included) that incremented n without failing. */
  increments: number;
  /** What the failed views raised, with how often. */
  failureMessages: Record<string, number>;
  /** The process's own CPU (user + system), start-up included. */
  cpuSeconds: number;
  /** The timed views' latencies, microseconds. */
  latenciesUs: number[];
}

/** One PHP process of a cell: its output line, or why there is none. */
export interface WorkerRun {
  output: WorkerOutput | null;
  /** Exit code, signal and the end of stderr when there was no output line. */
  problem: string | null;
}

/**
 * The global status counters read around each cell: the commits and statements a view costs.
 * MariaDB 10.8 and later have no Innodb_os_log_fsyncs; there Innodb_data_fsyncs counts the
 * redo log's fsyncs with the data files' (see fsyncsPerView).
 */
export const DB_COUNTERS = ['Innodb_os_log_fsyncs', 'Innodb_data_fsyncs', 'Handler_commit', 'Com_insert', 'Com_update', 'Com_delete', 'Com_select'] as const;
export type DbCounter = (typeof DB_COUNTERS)[number];

/** Redo log fsyncs per view where the server counts them apart, else every InnoDB fsync. */
export function fsyncsPerView(db: Record<DbCounter, number>): { value: number; counter: DbCounter } {
  return Number.isNaN(db.Innodb_os_log_fsyncs)
    ? { value: db.Innodb_data_fsyncs, counter: 'Innodb_data_fsyncs' }
    : { value: db.Innodb_os_log_fsyncs, counter: 'Innodb_os_log_fsyncs' };
}

/** A cell's row: the processes' figures together (WorkerTotals) and what was read around them. */
export interface SessionCell extends Omit<WorkerTotals, 'phpCpuSeconds'> {
  store: StoreName;
  procs: number;
  ids: IdMode;
  seconds: number;
  /** Shared id: n read back after the cell; null for distinct ids or when it could not be read. */
  finalN: number | null;
  /** Shared id: increments the processes made minus the n read back. */
  lostIncrements: number | null;
  /** Each counter's growth during the cell over allViews. */
  dbPerView: Record<DbCounter, number> | null;
  /** CPU microseconds per view (allViews): the store's server, MariaDB, and the PHP processes. */
  cpuUsPerView: { server: number | null; database: number | null; php: number };
}

const MAX_FAILURE_MESSAGES = 5;

/** Adds the counts of equal messages and keeps the most frequent few. */
export function mergeFailureMessages(all: readonly Record<string, number>[], keep = MAX_FAILURE_MESSAGES): Record<string, number> {
  const counts = new Map<string, number>();
  for (const messages of all) for (const [message, count] of Object.entries(messages)) counts.set(message, (counts.get(message) ?? 0) + count);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).slice(0, keep));
}

export interface WorkerTotals {
  /** Timed views, and views in all (warm-up included). */
  views: number;
  allViews: number;
  viewsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  failures: number;
  /** The most frequent failure messages, with their counts. */
  failureMessages: Record<string, number>;
  /** PHP processes that printed no result line (crashed, killed, PHP error). */
  brokenWorkers: number;
  firstProblem: string | null;
  /** Views that incremented n without failing, warm-up included. */
  increments: number;
  phpCpuSeconds: number;
}

/** The processes' figures together: counts add up, percentiles come from every timed view. */
export function combineWorkers(runs: readonly WorkerRun[], seconds: number): WorkerTotals {
  const outputs = runs.flatMap((r) => (r.output ? [r.output] : []));
  const sum = (field: 'views' | 'allViews' | 'failures' | 'increments' | 'cpuSeconds') => outputs.reduce((n, o) => n + o[field], 0);
  const latencies = new Float64Array(outputs.reduce((n, o) => n + o.latenciesUs.length, 0));
  let at = 0;
  for (const output of outputs) for (const us of output.latenciesUs) latencies[at++] = us / 1000;
  const summary = summarize(latencies);
  const views = sum('views');
  return {
    views,
    allViews: sum('allViews'),
    viewsPerSecond: seconds > 0 ? views / seconds : Number.NaN,
    p50Ms: summary.p50,
    p99Ms: summary.p99,
    maxMs: summary.max,
    failures: sum('failures'),
    failureMessages: mergeFailureMessages(outputs.map((o) => o.failureMessages)),
    brokenWorkers: runs.length - outputs.length,
    firstProblem: runs.find((r) => r.problem !== null)?.problem ?? null,
    increments: sum('increments'),
    phpCpuSeconds: sum('cpuSeconds'),
  };
}

/** Each counter's growth from `before` to `after` over `views`; NaN where either is missing. */
export function perView<K extends string>(names: readonly K[], before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, views: number): Record<K, number> {
  const result = {} as Record<K, number>;
  for (const name of names) {
    const from = before.get(name);
    const to = after.get(name);
    result[name] = from === undefined || to === undefined || views <= 0 ? Number.NaN : (to - from) / views;
  }
  return result;
}

/** CPU microseconds per view from a process's CPU seconds before and after; null without a process. */
export function cpuUsPerView(before: number | null, after: number | null, views: number): number | null {
  if (before === null || after === null) return null;
  return views > 0 ? ((after - before) * 1e6) / views : Number.NaN;
}

/** Increments the processes made that the session does not show: n read back short of them. */
export function lostIncrements(increments: number, finalN: number | null): number | null {
  return finalN === null ? null : increments - finalN;
}
