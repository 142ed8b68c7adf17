// Measuring the comparison's cells: each run of the load against a target (a slice), with the
// CPU each process used meanwhile and the gateway's coalescing counters, and the cell's
// figures from its slices.
import { performance } from 'node:perf_hooks';
import { mergeSlices, roundOrders } from './interleave.js';
import { runLoad, type LoadResult, type LoadSpec, type MemcacheTarget, type SqlTarget } from './load.js';
import { LATENCY_ROUNDS, cellName, groupSteps, sliceTiming, type Step } from './plan.js';
import { processCpuSeconds, serverStats } from './processes.js';
import type { Cell, TargetName } from './report.js';

/** What every cell's load shares: timings, keys and values. */
export type LoadBase = Pick<LoadSpec, 'seconds' | 'warmupSeconds' | 'keyCount' | 'keyPrefix' | 'valueSize'>;

export interface CellContext {
  base: LoadBase;
  targetOf(name: TargetName): MemcacheTarget | SqlTarget;
  /** The server process behind a target (memgate or memcached); null for raw SQL. */
  serverPidOf(name: TargetName): number | null;
  dbPid: number | null;
  /** The gateway's port, whose coalescing counters the memgate cells report. */
  gatewayPort: number | null;
}

const MERGE_COUNTS = ['readBatches', 'readKeys', 'writeBatches', 'writeSets'] as const;
export type MergeCounts = Record<(typeof MERGE_COUNTS)[number], number>;

/** The gateway's coalescing counters (stats coalesce_*). */
async function mergeCounts(port: number): Promise<MergeCounts> {
  const stats = await serverStats(port);
  const n = (name: string) => Number(stats.get(name) ?? Number.NaN);
  return {
    readBatches: n('coalesce_read_batches'), readKeys: n('coalesce_read_keys'),
    writeBatches: n('coalesce_write_batches'), writeSets: n('coalesce_write_sets'),
  };
}

/** a + sign × b, counter by counter */
export function combineCounts(a: MergeCounts, b: MergeCounts, sign: 1 | -1): MergeCounts {
  return Object.fromEntries(MERGE_COUNTS.map((name) => [name, a[name] + sign * b[name]])) as MergeCounts;
}

/** Keys per merged read and sets per merged write during a cell (warm-up included); null: none ran. */
export function mergedPer(counted: MergeCounts): { keysPerRead: number | null; setsPerWrite: number | null } {
  const per = (items: number, statements: number) => (statements > 0 ? items / statements : null);
  return { keysPerRead: per(counted.readKeys, counted.readBatches), setsPerWrite: per(counted.writeSets, counted.writeBatches) };
}

export interface Slice {
  result: LoadResult;
  wallSeconds: number;
  cpuSeconds: { server: number; database: number; generator: number };
  merged: MergeCounts | null;
}

/** One run of the load against a step's target, with the CPU each process used meanwhile. */
async function measureSlice(step: Step, overrides: Partial<LoadSpec>, ctx: CellContext): Promise<Slice> {
  const spec: LoadSpec = { ...ctx.base, target: ctx.targetOf(step.target), workload: step.workload, connections: step.connections, depth: step.depth, ...overrides };
  const serverPid = ctx.serverPidOf(step.target);
  const sample = () => ({
    at: performance.now(),
    server: serverPid ? processCpuSeconds(serverPid) : Number.NaN,
    database: ctx.dbPid ? processCpuSeconds(ctx.dbPid) : Number.NaN,
    generator: process.cpuUsage(),
  });
  const gatewayPort = step.target.startsWith('memgate-') ? ctx.gatewayPort : null;
  const mergedBefore = gatewayPort !== null ? await mergeCounts(gatewayPort) : null;
  // From the moment the load generator's thread has started: its start-up is not the cell's.
  let cpuBefore = sample();
  const result = await runLoad(spec, { onReady: () => { cpuBefore = sample(); } });
  const after = sample();
  const mergedAfter = gatewayPort !== null ? await mergeCounts(gatewayPort) : null;
  return {
    result,
    wallSeconds: (after.at - cpuBefore.at) / 1000,
    cpuSeconds: {
      server: after.server - cpuBefore.server,
      database: after.database - cpuBefore.database,
      generator: (after.generator.user - cpuBefore.generator.user + after.generator.system - cpuBefore.generator.system) / 1e6,
    },
    merged: mergedBefore && mergedAfter ? combineCounts(mergedAfter, mergedBefore, -1) : null,
  };
}

/** A cell's figures from its slices: latencies merged, CPU in % of one core over their wall time. */
export function toCell(step: Step, slices: readonly Slice[]): Cell {
  const wall = slices.reduce((n, s) => n + s.wallSeconds, 0);
  const cpu = (which: keyof Slice['cpuSeconds']) => slices.reduce((n, s) => n + s.cpuSeconds[which], 0);
  const share = (seconds: number) => (Number.isFinite(seconds) ? Math.round((100 * seconds) / wall) : null);
  const merged = slices[0]!.merged ? mergedPer(slices.map((s) => s.merged!).reduce((a, b) => combineCounts(a, b, 1))) : undefined;
  const { samples: _samples, ...result } = mergeSlices(slices.map((s) => s.result));
  return { ...step, ...result, cpuPercent: { server: share(cpu('server')), database: share(cpu('database')), generator: share(cpu('generator')) ?? 0 }, merged };
}

/** The row of a cell whose load failed: one error, no figures. */
export function failedCell(step: Step, message: string): Cell {
  return {
    ...step, ops: 0, measuredSeconds: 0, opsPerSecond: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN,
    hits: 0, misses: 0, stored: 0, errors: 1, firstError: message,
  };
}

/** The progress line of a finished cell; failed: its load failed (failedCell). */
export function cellProgress(cell: Cell, done: number, total: number, how: { interleaved: boolean; failed: boolean }): string {
  if (how.failed) return `[${done}/${total}] ${cellName(cell)}: FAILED ${cell.firstError}`;
  const slices = how.interleaved ? ` (${LATENCY_ROUNDS} interleaved slices)` : '';
  return `[${done}/${total}] ${cellName(cell)}${slices}: ${cell.opsPerSecond.toFixed(0)} ops/s, p50 ${cell.p50Ms.toFixed(3)} ms` +
    `${cell.errors ? `, ${cell.errors} errors (${cell.firstError})` : ''}`;
}

export interface MeasureOptions {
  seconds: number;
  warmupSeconds: number;
  /** Checked before every slice: true stops the run. */
  interrupted: () => boolean;
  log: (line: string) => void;
}

/** Measures every step of the plan, group by group; a step whose load fails becomes a failed cell. */
export async function measureCells(plan: readonly Step[], ctx: CellContext, options: MeasureOptions): Promise<Cell[]> {
  const slice = sliceTiming(options);
  const groups = groupSteps(plan);
  const cells: Cell[] = [];
  for (const [index, group] of groups.entries()) {
    const slices = new Map<Step, Slice[]>(group.map((step) => [step, []]));
    const failures = new Map<Step, string>();
    const orders = group.length === 1 ? [group] : roundOrders(group, LATENCY_ROUNDS, index + 1);
    for (const [round, order] of orders.entries()) {
      for (const step of order) {
        if (options.interrupted()) throw new Error('interrupted');
        if (failures.has(step)) continue;
        const overrides: Partial<LoadSpec> = group.length === 1 ? {} : { ...slice, seed: round, keepSamples: true };
        try {
          slices.get(step)!.push(await measureSlice(step, overrides, ctx));
        } catch (error) {
          failures.set(step, (error as Error).message);
        }
      }
    }
    for (const step of group) {
      const failure = failures.get(step);
      const cell = failure === undefined ? toCell(step, slices.get(step)!) : failedCell(step, failure);
      cells.push(cell);
      options.log(cellProgress(cell, cells.length, plan.length, { interleaved: group.length > 1, failed: failure !== undefined }));
    }
  }
  return cells;
}
