import type { CommandHandler } from './handler.js';

// delete, and meta md (with a CAS, or invalidating instead of deleting)
export default {
  async execute(request, { store, stats }) {
    const outcome = await store.delete(request.key, { cas: request.cas, invalidate: request.invalidate });
    // memcached counts a marked-stale item as neither hit nor miss.
    if (outcome === 'deleted' && !request.invalidate) stats.count('delete_hits');
    else if (outcome === 'not_found') stats.count('delete_misses');
    return { kind: 'delete', outcome };
  },
} satisfies CommandHandler<'delete'>;
