// The 1-connection cells carry the latency target, a difference of a tenth of a millisecond,
// while this VM's speed drifts by more than that within seconds. Measured one after another,
// raw SQL and memgate would each get the machine of their own moment; in short slices that take
// turns in a new random order every round, the drift falls on all of them alike.
import { loadResult, random, type LoadResult } from './load.js';
import { concatSamples } from './stats.js';

/** Puts the items in a random order in place (Fisher–Yates), drawing from rnd. */
export function shuffle<T>(items: T[], rnd: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** For each round, the order in which the items take their turn: a seeded shuffle per round. */
export function roundOrders<T>(items: readonly T[], rounds: number, seed = 1): T[][] {
  const rnd = random(seed);
  return Array.from({ length: rounds }, () => shuffle([...items], rnd));
}

/** One cell's figures from its slices: counts add up, percentiles come from all samples together. */
export function mergeSlices(slices: readonly LoadResult[]): LoadResult {
  if (slices.length === 1) return slices[0]!;
  const all = concatSamples(slices.map(samplesOf));
  const sum = (field: 'hits' | 'misses' | 'stored' | 'errors') => slices.reduce((n, s) => n + s[field], 0);
  return loadResult(all, slices.reduce((n, s) => n + s.measuredSeconds, 0), {
    hits: sum('hits'),
    misses: sum('misses'),
    stored: sum('stored'),
    errors: sum('errors'),
    firstError: slices.find((s) => s.firstError !== undefined)?.firstError,
  });
}

function samplesOf(slice: LoadResult): Float64Array {
  if (!slice.samples) throw new Error('mergeSlices: a slice was run without keepSamples');
  return slice.samples;
}
