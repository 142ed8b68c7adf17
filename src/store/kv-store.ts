import type { Item, StoreOutcome } from '../protocol/response.js';
import type { StoreMode } from '../protocol/request.js';

/** A value to write; exptime follows memcached's rules and is resolved by the database clock. */
export interface StoreInput {
  mode: StoreMode;
  key: Buffer;
  value: Buffer;
  flags: number;
  exptime: number;
  /** for mode 'cas', and append/prepend in the binary protocol: the token the client holds; 0n = none */
  cas: bigint;
}

export interface ArithmeticInput {
  key: Buffer;
  incr: boolean;
  delta: bigint;
  /** create the counter with this value when the key is missing (binary protocol) */
  initial?: { value: bigint; exptime: number };
  /** apply only if the item still has this CAS (binary protocol); absent or 0n = any */
  cas?: bigint;
}

export type ArithmeticResult =
  | { outcome: 'ok'; value: bigint; cas: bigint }
  | { outcome: 'not_found' | 'non_numeric' | 'exists' };

/**
 * Everything the command handlers need from storage. Every method is atomic in the database,
 * so several gateways sharing it never interleave a read-modify-write.
 * Keys of the returned map are key.toString('latin1'), a lossless byte-to-string mapping.
 */
export interface KvStore {
  get(keys: Buffer[]): Promise<Map<string, Item>>;
  /** get and set a new exptime on every live key found, atomically per key */
  getAndTouch(keys: Buffer[], exptime: number): Promise<Map<string, Item>>;
  store(input: StoreInput): Promise<{ outcome: StoreOutcome; cas?: bigint }>;
  delete(key: Buffer, cas?: bigint): Promise<'deleted' | 'not_found' | 'exists'>;
  touch(key: Buffer, exptime: number): Promise<'touched' | 'not_found'>;
  arithmetic(input: ArithmeticInput): Promise<ArithmeticResult>;
  /** hide every item written before now + delay (delay follows exptime rules; 0 = now) */
  flushAll(delay: number): Promise<void>;
}

export const mapKey = (key: Buffer): string => key.toString('latin1');
