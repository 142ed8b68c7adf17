import type { Item } from '../protocol/response.js';
import { mapKey } from '../store/kv-store.js';
import type { CommandHandler } from './handler.js';

// get/gets/gat/gats: every requested key answers in order, duplicates included.
export default {
  kind: 'get',
  async execute(request, { store, stats }) {
    const touching = request.touchExptime !== undefined;
    const found = touching
      ? await store.getAndTouch(request.keys, request.touchExptime!)
      : await store.get(request.keys);
    const items: Array<Item | null> = request.keys.map((key) => found.get(mapKey(key)) ?? null);
    for (const item of items) {
      // memcached counts gat under touch, plain gets under get, per key.
      if (touching) {
        stats.count('cmd_touch');
        stats.count(item ? 'touch_hits' : 'touch_misses');
      } else {
        stats.count('cmd_get');
        stats.count(item ? 'get_hits' : 'get_misses');
      }
    }
    return { kind: 'hits', items, withCas: request.withCas };
  },
} satisfies CommandHandler<'get'>;
