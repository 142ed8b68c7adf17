import { absoluteExpiry } from '../model/item-rules.js';
import type { GetRequest } from '../model/request.js';
import type { HitsResponse, Item } from '../model/response.js';
import { mapKey } from '../store/kv-store.js';
import type { ServerStats } from '../stats/server-stats.js';
import type { CommandContext, CommandHandler } from './handler.js';

// get/gets/gat/gats: every requested key answers in order, duplicates included.
export default {
  async execute(request, ctx) {
    if (request.touchExptime === undefined) return (await executeGets([request], ctx))[0]!;
    const found = await ctx.store.getAndTouch(request.keys, request.touchExptime);
    const expiring = touchExpires(request.touchExptime, Math.floor(Date.now() / 1000));
    const seen = new Set<string>();
    const items: Array<Item | null> = request.keys.map((key) => {
      const mapped = mapKey(key);
      // memcached touches each key as it comes to it: a touch into the past makes a repeat a miss.
      if (expiring && seen.has(mapped)) return null;
      seen.add(mapped);
      return found.get(mapped) ?? null;
    });
    countLookups(items, true, ctx.stats);
    return { kind: 'hits', items, withCas: request.withCas };
  },
  // Plain gets (no touch) share one read: reads commute, so answering them together cannot
  // change what any of them sees.
  batch: {
    joins: (request) => request.touchExptime === undefined,
    startRun(first, limits) {
      let keys = first.keys.length;
      return {
        add(next) {
          keys += next.keys.length;
          return keys <= limits.maxGetKeys;
        },
      };
    },
    execute: executeGets,
  },
} satisfies CommandHandler<'get'>;

/**
 * Answers several plain gets with one read of the store, so a pipelined run of binary GETKQ
 * (or of text gets) costs one query rather than one per key.
 */
async function executeGets(requests: GetRequest[], { store, stats }: CommandContext): Promise<HitsResponse[]> {
  const found = await store.get(requests.flatMap((r) => r.keys), { access: 'record' });
  return requests.map((request) => {
    const items: Array<Item | null> = request.keys.map((key) => found.get(mapKey(key)) ?? null);
    countLookups(items, false, stats);
    return { kind: 'hits', items, withCas: request.withCas };
  });
}

/** memcached counts a gat's keys under touch and a plain get's under get, each key a hit or a miss. */
export function countLookups(items: Array<Item | null>, touched: boolean, stats: ServerStats): void {
  for (const item of items) {
    stats.count(touched ? 'cmd_touch' : 'cmd_get');
    if (touched) stats.count(item ? 'touch_hits' : 'touch_misses');
    else stats.count(item ? 'get_hits' : 'get_misses');
  }
}

/**
 * Whether a gat's exptime leaves the item already expired (negative, or an absolute time not
 * after `now`). An absolute time within a second or two of now is judged by this gateway's
 * clock rather than the database's; only repeats of a key in one gat depend on it.
 */
function touchExpires(exptime: number, now: number): boolean {
  return absoluteExpiry(exptime, now) === 1;
}
