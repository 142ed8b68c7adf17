import type { CommandHandler } from './handler.js';

// set/add/replace/append/prepend/cas
export default {
  kind: 'store',
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
} satisfies CommandHandler<'store'>;
