import type { CommandHandler } from './handler.js';
import { lastExptime, runSteps } from './meta-steps.js';

// incr/decr, and meta ma (with T, N and t steps)
export default {
  async execute(request, { store, stats }) {
    const { steps } = request;
    const result = await store.arithmetic({
      key: request.key,
      incr: request.incr,
      delta: request.delta,
      cas: request.cas,
      // ma creates a counter with no exptime and lets its steps set one.
      initial: request.initial && steps
        ? { value: request.initial.value, exptime: lastExptime(steps, true) ?? 0 }
        : request.initial,
      touchExptime: steps ? lastExptime(steps, false) : undefined,
    });
    const prefix = request.incr ? 'incr' : 'decr';
    // A counter made from the binary protocol's initial value is neither a hit nor a miss.
    if (result.outcome === 'ok' && !result.created) stats.count(`${prefix}_hits`);
    if (result.outcome === 'not_found') stats.count(`${prefix}_misses`);
    if (result.outcome !== 'ok') return { kind: 'arith', outcome: result.outcome };
    const ttl = steps
      ? runSteps(steps, { expiry: result.expiry, tokenSent: false, created: result.created }, result.now).ttl
      : undefined;
    return { kind: 'arith', outcome: 'ok', value: result.value, cas: result.cas, created: result.created, ttl };
  },
} satisfies CommandHandler<'arith'>;
