import type { CommandHandler } from './handler.js';

// incr/decr
export default {
  kind: 'arith',
  async execute(request, { store, stats }) {
    const result = await store.arithmetic(request);
    const prefix = request.incr ? 'incr' : 'decr';
    // A counter made from the binary protocol's initial value is neither a hit nor a miss.
    if (result.outcome === 'ok' && !result.created) stats.count(`${prefix}_hits`);
    if (result.outcome === 'not_found') stats.count(`${prefix}_misses`);
    return result.outcome === 'ok'
      ? { kind: 'arith', outcome: 'ok', value: result.value, cas: result.cas }
      : { kind: 'arith', outcome: result.outcome };
  },
} satisfies CommandHandler<'arith'>;
