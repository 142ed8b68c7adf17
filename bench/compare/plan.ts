// Which cells the comparison measures, in which order, and how long that takes: every
// (workload, connections, target, depth) of the options; the 1-connection cells of a workload
// measured together, in interleaved slices (see interleave.ts), the others one after another.
import type { ComparisonOptions } from './options.js';
import type { Cell } from './report.js';

/** One cell to measure. */
export type Step = Pick<Cell, 'workload' | 'connections' | 'target' | 'depth'>;

/** The 1-connection cells of a workload take turns in this many slices each. */
export const LATENCY_ROUNDS = 6;
/** Warm-up of each slice: a fresh connection's first replies are not part of the figures. */
const LATENCY_SLICE_WARMUP_SECONDS = 0.2;
/** A load thread takes about this long to start. */
const LOAD_THREAD_START_SECONDS = 0.3;

type PlanOptions = Pick<ComparisonOptions, 'workloads' | 'concurrencies' | 'targets' | 'depths' | 'seconds' | 'warmupSeconds'>;

export function planSteps(options: PlanOptions): Step[] {
  const plan: Step[] = [];
  for (const workload of options.workloads) {
    for (const connections of options.concurrencies) {
      for (const target of options.targets) {
        // A lone connection is measured closed-loop only: its row is the latency target's.
        for (const depth of connections === 1 ? [1] : options.depths) plan.push({ workload, connections, target, depth });
      }
    }
  }
  return plan;
}

/** The steps in the groups they are measured in: one group per workload's 1-connection steps, else one step each. */
export function groupSteps(plan: readonly Step[]): Step[][] {
  const groups: Step[][] = [];
  for (const step of plan) {
    const joins = step.connections === 1 ? groups.find((g) => g[0]!.connections === 1 && g[0]!.workload === step.workload) : undefined;
    if (joins) joins.push(step);
    else groups.push([step]);
  }
  return groups;
}

/** Length and warm-up of one slice of an interleaved cell. */
export function sliceTiming(options: Pick<ComparisonOptions, 'seconds' | 'warmupSeconds'>): { seconds: number; warmupSeconds: number } {
  return { seconds: options.seconds / LATENCY_ROUNDS, warmupSeconds: Math.min(options.warmupSeconds, LATENCY_SLICE_WARMUP_SECONDS) };
}

/** Roughly how long the cells take; the interleaved cells start a load thread per slice. */
export function estimateSeconds(plan: readonly Step[], options: Pick<ComparisonOptions, 'seconds' | 'warmupSeconds'>): number {
  const slice = sliceTiming(options);
  return plan.reduce((sum, step) => sum + (step.connections === 1
    ? options.seconds + LATENCY_ROUNDS * (slice.warmupSeconds + LOAD_THREAD_START_SECONDS)
    : options.seconds + options.warmupSeconds + LOAD_THREAD_START_SECONDS), 0);
}

export const cellName = (c: Step) => `${c.workload} x${c.connections} ${c.target} depth ${c.depth}`;
