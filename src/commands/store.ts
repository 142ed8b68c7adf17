import type { StoreRequest } from '../model/request.js';
import type { StoreResponse } from '../model/response.js';
import { isPlainSet } from '../store/kv-store.js';
import type { CommandContext, CommandHandler } from './handler.js';

// set/add/replace/append/prepend/cas
export default {
  async execute(request, { store, stats }) {
    stats.count('cmd_set');
    const result = await store.store(request);
    if (request.mode === 'cas') {
      if (result.outcome === 'stored') stats.count('cas_hits');
      else if (result.outcome === 'exists') stats.count('cas_badval');
      else if (result.outcome === 'not_found') stats.count('cas_misses');
    }
    return { kind: 'store', outcome: result.outcome, cas: result.cas };
  },
  // Plain sets (no CAS, no invalidation) are written in their order by one statement.
  batch: {
    joins: isPlainSet,
    startRun(first, limits) {
      let sets = 1;
      let bytes = first.value.length;
      return {
        add(next) {
          bytes += next.value.length;
          if (sets >= limits.maxSets || bytes > limits.maxSetBytes) return false;
          sets += 1;
          return true;
        },
      };
    },
    execute: executeSets,
  },
} satisfies CommandHandler<'store'>;

/**
 * Answers a connection's pipelined plain sets with one write of the store, in their order,
 * so a run of binary SETQ (or of text sets) costs one statement rather than one per key.
 */
async function executeSets(requests: StoreRequest[], { store, stats }: CommandContext): Promise<StoreResponse[]> {
  stats.count('cmd_set', requests.length);
  const results = await store.setMany(requests);
  return results.map((result) => ({ kind: 'store', outcome: result.outcome, cas: result.cas }));
}
