import type { MetaGetRequest } from '../model/request.js';
import type { MetaGetResponse, MetaItem } from '../model/response.js';
import type { ServerStats } from '../stats/server-stats.js';
import { ItemBit, mapKey, type ItemDecision, type StoredItem } from '../store/kv-store.js';
import type { CommandHandler } from './handler.js';
import { runSteps } from './meta-steps.js';

// mg: a get whose flags may touch the item (T), create it on a miss (N), hand out the recache
// token (N, R, or a stale item) and report its hit and access state (h, l) from before this
// read, all as memcached 1.6.18's process_mget_command does.
export default {
  async execute(request, { store, stats }) {
    const changes = request.steps.some((s) => s.type === 'touch' || s.type === 'vivify' || s.type === 'recache');
    let bumped = false;
    if (!changes && !request.accessInfo) {
      // Nothing to decide under a lock: a plain read, as fast as get.
      const access = request.noBump ? undefined : 'record';
      const item = (await store.get([request.key], { access })).get(mapKey(request.key)) ?? null;
      const failed = request.steps.some((s) => s.type === 'fail');
      // A stale item whose token nobody holds is won by whoever reads it first: that needs the lock.
      const winnable = item !== null && (item.bits & (ItemBit.stale | ItemBit.tokenSent)) === ItemBit.stale;
      if (!winnable || failed) return count(reply(request, item, false), stats);
      bumped = true;
    }
    const bump = !request.noBump && !bumped;
    const item = await store.modify(request.key, (current, fresh) => decide(request, current, fresh, bump));
    return count(item, stats);
  },
} satisfies CommandHandler<'metaGet'>;

interface Outcome {
  response: MetaGetResponse;
  touched: boolean;
  failed: boolean;
}

function count(outcome: Outcome, stats: ServerStats): MetaGetResponse {
  // memcached counts a touching mg as a touch, any other as a get; a failed one not at all.
  if (!outcome.failed) {
    const hit = outcome.response.item !== null;
    if (outcome.touched) {
      stats.count('cmd_touch');
      stats.count('touch_hits');
    } else {
      stats.count('cmd_get');
      stats.count(hit ? 'get_hits' : 'get_misses');
    }
  }
  return outcome.response;
}

/** The reply to a read that changed nothing. */
function reply(request: MetaGetRequest, item: StoredItem | null, created: boolean): Outcome {
  if (!item) return { response: { kind: 'metaGet', item: null }, touched: false, failed: request.steps.some((s) => s.type === 'fail') };
  const steps = runSteps(request.steps, { expiry: item.expiry, tokenSent: hasBit(item, ItemBit.tokenSent), created }, item.now);
  return {
    response: { kind: 'metaGet', item: metaItem(item, steps.ttl, false) },
    touched: steps.touched,
    failed: steps.failed,
  };
}

function decide(
  request: MetaGetRequest, current: StoredItem | null, fresh: { cas: bigint; now: number }, bump: boolean,
): ItemDecision<Outcome> {
  const vivify = request.steps.some((s) => s.type === 'vivify');
  if (!current && !vivify) return { result: reply(request, null, false) };
  // N on a miss: an empty item, which this client is to fill.
  const created = !current;
  const item: StoredItem = current ?? {
    key: request.key, value: Buffer.alloc(0), flags: 0, cas: fresh.cas, expiry: 0, accessedAt: fresh.now, bits: 0, now: fresh.now,
  };
  const tokenSent = hasBit(item, ItemBit.tokenSent);
  const steps = runSteps(request.steps, { expiry: item.expiry, tokenSent, created }, fresh.now);
  // memcached's answer is an error from the fail step on, but what came before stays done.
  const won = !steps.failed && (steps.won || (hasBit(item, ItemBit.stale) && !tokenSent));
  let bits = item.bits | (won ? ItemBit.tokenSent : 0);
  let accessed = false;
  if (bump && !steps.failed) {
    accessed = hasBit(item, ItemBit.fetched) && !hasBit(item, ItemBit.active);
    bits |= hasBit(item, ItemBit.fetched) ? ItemBit.active : ItemBit.fetched;
  }
  const result: Outcome = {
    response: { kind: 'metaGet', item: metaItem(item, steps.ttl, won) },
    touched: steps.touched,
    failed: steps.failed,
  };
  if (created) {
    return { result, write: { create: { value: item.value, flags: 0, exptime: steps.exptime ?? 0, bits } } };
  }
  if (!steps.touched && bits === item.bits) return { result };
  return { result, write: { update: { bits, exptime: steps.touched ? steps.exptime : undefined, accessed } } };
}

function metaItem(item: StoredItem, ttl: number | undefined, won: boolean): MetaItem {
  return {
    key: item.key,
    value: item.value,
    flags: item.flags,
    cas: item.cas,
    ttl,
    idleSeconds: item.accessedAt === 0 ? 0 : Math.max(0, item.now - item.accessedAt),
    hitBefore: hasBit(item, ItemBit.fetched),
    stale: hasBit(item, ItemBit.stale),
    tokenSent: hasBit(item, ItemBit.tokenSent),
    won,
    binaryKey: hasBit(item, ItemBit.binaryKey),
  };
}

function hasBit(item: StoredItem, bit: number): boolean {
  return (item.bits & bit) !== 0;
}
