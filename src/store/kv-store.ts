import type { Item, StoreOutcome } from '../model/response.js';
import type { StoreMode } from '../model/request.js';

/** A value to write; exptime follows memcached's rules and is resolved by the database clock. */
export interface StoreInput {
  mode: StoreMode;
  key: Buffer;
  value: Buffer;
  flags: number;
  exptime: number;
  /** for mode 'cas', and append/prepend in the binary protocol: the token the client holds; 0n = none */
  cas: bigint;
  /** mode 'cas': a token older than the item's stores too, keeping its expiry and marking it stale */
  invalidate?: boolean;
  /** the key is echoed base64-encoded from now on (meta b) */
  binaryKey?: boolean;
}

export interface ArithmeticInput {
  key: Buffer;
  incr: boolean;
  delta: bigint;
  /** create the counter with this value when the key is missing (binary protocol) */
  initial?: { value: bigint; exptime: number };
  /** apply only if the item still has this CAS (binary protocol); absent or 0n = any */
  cas?: bigint;
  /**
   * a new exptime for an existing counter (meta T). As in memcached it only takes when the
   * new digits fit where the old ones were: a counter that grows becomes a new item that
   * keeps the old exptime.
   */
  touchExptime?: number;
}

export type ArithmeticResult =
  | {
    outcome: 'ok';
    value: bigint;
    cas: bigint;
    /** the counter was missing and was created from initial */
    created: boolean;
    /** the counter's expiry before this command (absolute, 0 = never; 0 when created) */
    expiry: number;
    /** the database clock */
    now: number;
  }
  | { outcome: 'not_found' | 'non_numeric' | 'exists' };

/**
 * Per-item bits kept beside the value, as memcached keeps them in an item's it_flags. A write
 * that replaces the value starts the item over with none of them (but the key's encoding).
 */
export const ItemBit = {
  /** read at least once (ITEM_FETCHED) */
  fetched: 1,
  /** read again after that; the second read set the last-access time (ITEM_ACTIVE) */
  active: 2,
  /** a client was handed the recache token (ITEM_TOKEN_SENT) */
  tokenSent: 4,
  /** invalidated: still served, marked stale (ITEM_STALE) */
  stale: 8,
  /** stored under a base64-encoded key (ITEM_KEY_BINARY) */
  binaryKey: 16,
} as const;

/** An item as the store keeps it: value, CAS and the state the meta commands read and change. */
export interface StoredItem extends Item {
  /** absolute unix expiry by the database clock; 0 = never */
  expiry: number;
  /** last access in unix seconds; 0 = unknown (rows written before memgate kept it) */
  accessedAt: number;
  /** ItemBit flags */
  bits: number;
  /** the database clock when the item was read */
  now: number;
}

/** What a read-modify-write wants written, decided on the item as it was read. */
export type ItemWrite =
  /** the key was missing: create it (a fresh CAS, accessed now) */
  | { create: { value: Buffer; flags: number; exptime: number; bits: number } }
  /** change the item's state; exptime follows memcached's rules, newCas gives it a fresh CAS */
  | { update: { bits: number; exptime?: number; newCas?: boolean; accessed?: boolean } };

export interface ItemDecision<T> {
  result: T;
  write?: ItemWrite;
}

/**
 * Decides on a locked item (null: missing or expired). `fresh.cas` is the CAS a created item
 * or a newCas update gets; `fresh.now` is the database clock.
 */
export type ItemDecider<T> = (item: StoredItem | null, fresh: { cas: bigint; now: number }) => ItemDecision<T>;

/**
 * Everything the command handlers need from storage. Every method is atomic in the database,
 * so several gateways sharing it never interleave a read-modify-write.
 * Keys of the returned map are key.toString('latin1'), a lossless byte-to-string mapping.
 */
export interface KvStore {
  /**
   * Live items by key, as they were before this read. With access 'record' the read counts
   * as an access (memcached's first read of an item marks it fetched, the second also sets
   * its last-access time), written shortly after; with 'report' such marks still queued
   * for these keys are written first, so the items show them.
   */
  get(keys: Buffer[], options?: { access?: 'record' | 'report' }): Promise<Map<string, StoredItem>>;
  /** get and set a new exptime on every live key found, atomically per key */
  getAndTouch(keys: Buffer[], exptime: number): Promise<Map<string, Item>>;
  store(input: StoreInput): Promise<{ outcome: StoreOutcome; cas?: bigint }>;
  /**
   * Plain sets (mode 'set', no CAS), applied in the order given: for a key set twice the later
   * value wins, as if they had run one after another. Each gets a CAS of its own.
   */
  setMany(inputs: StoreInput[]): Promise<Array<{ outcome: 'stored'; cas: bigint }>>;
  /**
   * delete, only if the item has `cas` when one is given; with invalidate the item is kept,
   * marked stale with a fresh CAS and its recache token released ('deleted' then means marked)
   */
  delete(key: Buffer, options?: { cas?: bigint; invalidate?: { exptime?: number } }): Promise<'deleted' | 'not_found' | 'exists'>;
  touch(key: Buffer, exptime: number): Promise<'touched' | 'not_found'>;
  arithmetic(input: ArithmeticInput): Promise<ArithmeticResult>;
  /** A read-modify-write of one item under its row lock; decide may run again on a retry. */
  modify<T>(key: Buffer, decide: ItemDecider<T>): Promise<T>;
  /** hide every item written before now + delay (delay follows exptime rules; 0 = now) */
  flushAll(delay: number): Promise<void>;
}

/** A set whose effect does not depend on what it overwrites, so it may share a statement. */
export function isPlainSet(input: { mode: string; cas: bigint; invalidate?: boolean }): boolean {
  return input.mode === 'set' && input.cas === 0n && !input.invalidate;
}

export const mapKey = (key: Buffer): string => key.toString('latin1');

/** The keys without repeats (by mapKey), in the order they first appear. */
export function uniqueKeys(keys: Buffer[]): Buffer[] {
  const seen = new Map<string, Buffer>();
  for (const key of keys) seen.set(mapKey(key), key);
  return [...seen.values()];
}
