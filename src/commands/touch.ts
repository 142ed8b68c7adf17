import type { CommandHandler } from './handler.js';

export default {
  async execute(request, { store, stats }) {
    const outcome = await store.touch(request.key, request.exptime);
    stats.count('cmd_touch');
    stats.count(outcome === 'touched' ? 'touch_hits' : 'touch_misses');
    return { kind: 'touch', outcome };
  },
} satisfies CommandHandler<'touch'>;
