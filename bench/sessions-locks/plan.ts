// What the lock-design benchmark measures and how it reports it, with no server: its settings,
// its cells, a cell's figures from its slices, and the table.
import { concatSamples, summarize } from '../compare/stats.js';
import { atLeast } from '../env-options.js';
import { DESIGN_LABELS, DESIGN_NAMES, type DesignName } from './designs.js';

export interface LockBenchOptions {
  /** Measured seconds per cell, cut into one slice per round (BENCH_LOCKS_SECONDS). */
  seconds: number;
  /** Rounds; every cell runs one slice per round, in a new random order (BENCH_LOCKS_ROUNDS). */
  rounds: number;
  /** Unmeasured seconds at the start of each slice: statements get prepared, rows cached. */
  warmupSeconds: number;
}

export const DEFAULT_LOCK_OPTIONS: LockBenchOptions = { seconds: 14, rounds: 4, warmupSeconds: 0.4 };

export function lockOptionsFromEnv(env: NodeJS.ProcessEnv): LockBenchOptions {
  const seconds = atLeast(env['BENCH_LOCKS_SECONDS'], 'BENCH_LOCKS_SECONDS', 0.4) ?? DEFAULT_LOCK_OPTIONS.seconds;
  const rounds = atLeast(env['BENCH_LOCKS_ROUNDS'], 'BENCH_LOCKS_ROUNDS', 1, true) ?? DEFAULT_LOCK_OPTIONS.rounds;
  // A short run keeps the warm-up in proportion to its slices.
  const warmupSeconds = Math.min(DEFAULT_LOCK_OPTIONS.warmupSeconds, seconds / rounds / 2);
  return { seconds, rounds, warmupSeconds };
}

export interface Cell {
  design: DesignName;
  clients: number;
  /** every client on one session id (contended), or each on its own */
  shared: boolean;
}

export const CLIENT_COUNTS = [8, 32] as const;
export const CONTENDED_CLIENTS = 8;
/** The designs whose lock can be busy in a way worth measuring: the two candidates. */
export const CONTENDED_DESIGNS: readonly DesignName[] = ['B', 'B+live', 'C'];

/** Every design at every client count on distinct sessions, then the contended cells. */
export function planCells(): Cell[] {
  const distinct = CLIENT_COUNTS.flatMap((clients) => DESIGN_NAMES.map((design) => ({ design, clients, shared: false })));
  const contended = CONTENDED_DESIGNS.map((design) => ({ design, clients: CONTENDED_CLIENTS, shared: true }));
  return [...distinct, ...contended];
}

export const cellName = (cell: Cell) => `${cell.design} ${cell.clients}${cell.shared ? ' shared' : ''}`;

/** The session id of a client in a cell: one per client, or one for the whole cell. */
export function sessionId(cell: Cell, client: number): string {
  const design = cell.design.replace('+', '');
  return cell.shared ? `${design}shared` : `${design}c${cell.clients}n${client}`;
}

/** About how long a run takes, in seconds (the database start and table set-up aside). */
export function estimateSeconds(options: LockBenchOptions, cells: number): number {
  const perSliceOverhead = options.warmupSeconds + 0.2;
  return Math.round(cells * (options.seconds + options.rounds * perSliceOverhead));
}

/** What one slice of a cell measured, counters as differences over its measured window. */
export interface SliceResult {
  seconds: number;
  /** page views completed in the window, and their latencies (ms, first try to done) */
  samples: Float64Array;
  /** tries at the lock, and those that found it busy */
  attempts: number;
  busy: number;
  errors: number;
  firstError?: string;
  fsyncs: number;
  commits: number;
  cpuSeconds: number;
  /** D: merged writes run in the slice (warm-up included), and the rows they held */
  merged?: { writes: number; rows: number };
}

export interface CellFigures {
  views: number;
  viewsPerSecond: number;
  p50: number;
  p99: number;
  fsyncsPerView: number;
  commitsPerView: number;
  cpuUsPerView: number;
  /** share of lock tries that found it busy */
  busyShare: number;
  errors: number;
  firstError?: string;
  /** D: rows per merged write */
  rowsPerWrite?: number;
}

/** A cell's figures from its slices: counts add up, percentiles come from all samples together. */
export function cellFigures(slices: readonly SliceResult[]): CellFigures {
  const sum = (field: 'seconds' | 'attempts' | 'busy' | 'errors' | 'fsyncs' | 'commits' | 'cpuSeconds') =>
    slices.reduce((n, s) => n + s[field], 0);
  const all = concatSamples(slices.map((slice) => slice.samples));
  const views = all.length;
  const perView = (total: number) => (views > 0 ? total / views : Number.NaN);
  const latency = summarize(all);
  const attempts = sum('attempts');
  const merged = slices.filter((s) => s.merged !== undefined).map((s) => s.merged!);
  const mergedWrites = merged.reduce((n, m) => n + m.writes, 0);
  return {
    views,
    viewsPerSecond: sum('seconds') > 0 ? views / sum('seconds') : 0,
    p50: latency.p50,
    p99: latency.p99,
    fsyncsPerView: perView(sum('fsyncs')),
    commitsPerView: perView(sum('commits')),
    cpuUsPerView: perView(sum('cpuSeconds') * 1e6),
    busyShare: attempts > 0 ? sum('busy') / attempts : 0,
    errors: sum('errors'),
    firstError: slices.find((s) => s.firstError !== undefined)?.firstError,
    rowsPerWrite: merged.length > 0 && mergedWrites > 0 ? merged.reduce((n, m) => n + m.rows, 0) / mergedWrites : undefined,
  };
}

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const grouped = (n: number) => Math.round(n).toLocaleString('en-US');

/** The results as a markdown table, in plan order. */
export function formatTable(rows: ReadonlyArray<{ cell: Cell; figures: CellFigures }>): string {
  const lines = [
    '| design | clients | sessions | views/s | p50 ms | p99 ms | log fsyncs/view | Handler_commit/view | DB CPU µs/view | lock busy |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { cell, figures: f } of rows) {
    lines.push(`| ${DESIGN_LABELS[cell.design]} | ${cell.clients} | ${cell.shared ? 'one shared' : 'distinct'} | ` +
      `${grouped(f.viewsPerSecond)} | ${fixed(f.p50, 2)} | ${fixed(f.p99, 2)} | ${fixed(f.fsyncsPerView, 2)} | ` +
      `${fixed(f.commitsPerView, 2)} | ${fixed(f.cpuUsPerView, 0)} | ${cell.shared ? `${fixed(f.busyShare * 100, 1)} %` : ''} |`);
  }
  return lines.join('\n');
}
