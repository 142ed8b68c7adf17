import type { CommandHandler } from './handler.js';

export default {
  kind: 'delete',
  async execute(request, { store, stats }) {
    const outcome = await store.delete(request.key);
    stats.count(outcome === 'deleted' ? 'delete_hits' : 'delete_misses');
    return { kind: 'delete', outcome: outcome === 'deleted' ? 'deleted' : 'not_found' };
  },
} satisfies CommandHandler<'delete'>;
