import type { CommandHandler } from './handler.js';

// flush_all [delay]: a durable store may turn it off (flushAll.enabled, like memcached -F).
export default {
  async execute(request, { store, stats, settings }) {
    stats.count('cmd_flush');
    if (!settings.flushEnabled) return { kind: 'forbidden', message: 'flush_all not allowed' };
    if (request.delay === null) return { kind: 'clientError', message: 'invalid exptime argument' };
    await store.flushAll(request.delay);
    return { kind: 'ok' };
  },
} satisfies CommandHandler<'flush'>;
