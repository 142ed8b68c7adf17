import { absoluteExpiry } from '../model/item-rules.js';
import type { MetaStep } from '../model/request.js';

// How memcached's meta commands walk their T, N, R and t flags (process_mget_command and
// process_marithmetic_command): in request order, each seeing what the earlier ones did.

/** t: seconds left, -1 for never; an elapsed expiry wraps as memcached's unsigned print does. */
export function remainingTtl(expiry: number, now: number): number {
  return expiry === 0 ? -1 : (expiry - now) >>> 0;
}

export interface StepsOutcome {
  /** the absolute expiry after the steps */
  expiry: number;
  /** the last exptime a T or N set, as the client gave it; undefined when none did */
  exptime?: number;
  /** a T ran */
  touched: boolean;
  /** an N created the item, or an R found it expiring sooner than asked: the token is won */
  won: boolean;
  /** the TTL at the t step */
  ttl?: number;
  /** a fail step was reached: nothing after it ran */
  failed: boolean;
}

/**
 * Runs the steps on an item that expires at `expiry` (absolute, 0 = never). A created item
 * starts with no expiry, as memcached allocates it before reading N.
 */
export function runSteps(
  steps: readonly MetaStep[], item: { expiry: number; tokenSent: boolean; created: boolean }, now: number,
): StepsOutcome {
  const outcome: StepsOutcome = { expiry: item.created ? 0 : item.expiry, touched: false, won: false, failed: false };
  for (const step of steps) {
    switch (step.type) {
      case 'touch':
        outcome.expiry = absoluteExpiry(step.exptime, now);
        outcome.exptime = step.exptime;
        outcome.touched = true;
        break;
      case 'vivify':
        if (!item.created) break;
        outcome.expiry = absoluteExpiry(step.exptime, now);
        outcome.exptime = step.exptime;
        outcome.won = true;
        break;
      case 'recache':
        if (!item.tokenSent && !item.created && outcome.expiry !== 0 && outcome.expiry < absoluteExpiry(step.exptime, now)) {
          outcome.won = true;
        }
        break;
      case 'ttl':
        outcome.ttl = remainingTtl(outcome.expiry, now);
        break;
      case 'fail':
        outcome.failed = true;
        return outcome;
    }
  }
  return outcome;
}

/**
 * The exptime the steps leave on an item before it is read (for ma, whose store call must
 * know it up front): the last T, or for a created item the last T or N, before any fail.
 */
export function lastExptime(steps: readonly MetaStep[], created: boolean): number | undefined {
  let exptime: number | undefined;
  for (const step of steps) {
    if (step.type === 'fail') break;
    if (step.type === 'touch' || (step.type === 'vivify' && created)) exptime = step.exptime;
  }
  return exptime;
}
