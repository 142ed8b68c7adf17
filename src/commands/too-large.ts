import type { CommandHandler } from './handler.js';

// A store whose value exceeds the item size. memcached also drops the old item on a failed
// set, so a client never reads a value older than the one it just tried to write.
export default {
  async execute(request, { store, stats }) {
    stats.count('store_too_large');
    if (request.mode === 'set') await store.delete(request.key);
    return { kind: 'tooLarge' };
  },
} satisfies CommandHandler<'tooLarge'>;
