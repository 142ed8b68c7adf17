import type { CommandHandler } from './handler.js';

export default {
  kind: 'delete',
  async execute(request, { store, stats }) {
    const outcome = await store.delete(request.key, request.cas ?? 0n);
    if (outcome === 'deleted') stats.count('delete_hits');
    else if (outcome === 'not_found') stats.count('delete_misses');
    return { kind: 'delete', outcome };
  },
} satisfies CommandHandler<'delete'>;
