import { itemTotalSize } from '../model/item-rules.js';
import { ItemBit, mapKey } from '../store/kv-store.js';
import type { CommandHandler } from './handler.js';

// me: what memcached knows about an item besides its value. Looking does not count as an access.
export default {
  async execute(request, { store, stats }) {
    stats.count('cmd_meta');
    const item = (await store.get([request.key], { access: 'report' })).get(mapKey(request.key));
    if (!item) return { kind: 'metaDebug', item: null };
    return {
      kind: 'metaDebug',
      item: {
        key: item.key,
        binaryKey: (item.bits & ItemBit.binaryKey) !== 0,
        // memcached prints now minus the expiry: negative while the item lives on
        exp: item.expiry === 0 ? -1 : item.now - item.expiry,
        idleSeconds: item.accessedAt === 0 ? 0 : Math.max(0, item.now - item.accessedAt),
        cas: item.cas,
        fetched: (item.bits & ItemBit.fetched) !== 0,
        size: itemTotalSize(item.key.length, item.flags, item.value.length),
      },
    };
  },
} satisfies CommandHandler<'metaDebug'>;
