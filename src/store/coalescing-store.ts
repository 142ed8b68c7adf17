import type { Item, StoreOutcome } from '../protocol/response.js';
import { Batcher } from './batcher.js';
import type { ArithmeticInput, ArithmeticResult, KvStore, StoreInput } from './kv-store.js';
import type { MysqlKvStore } from './mysql-kv-store.js';

export interface CoalescingOptions {
  /** merged reads (and, separately, merged writes) running at once */
  maxInFlight: number;
  /** most keys in one merged read */
  maxBatchKeys: number;
  /** most value bytes in one merged write; a larger set runs on its own */
  maxBatchBytes: number;
}

/**
 * Merges what concurrent clients ask for: gets from any connections become one IN (…) read,
 * plain sets one multi-row upsert. Only merges that keep each command's meaning are made:
 * reads commute, and a plain set (no CAS, not add/replace/append) is an upsert whose effect
 * does not depend on what it overwrites. Everything else runs as its own statement.
 */
export class CoalescingStore implements KvStore {
  private readonly reads: Batcher<Buffer[], Map<string, Item>>;
  private readonly writes: Batcher<StoreInput, { outcome: 'stored'; cas: bigint }>;

  constructor(private readonly inner: MysqlKvStore, private readonly options: CoalescingOptions) {
    this.reads = new Batcher(
      async (requests) => {
        const found = await inner.get(requests.flat());
        return requests.map(() => found);
      },
      { maxInFlight: options.maxInFlight, maxWeight: options.maxBatchKeys },
    );
    this.writes = new Batcher((inputs) => inner.setMany(inputs), {
      maxInFlight: options.maxInFlight,
      maxWeight: options.maxBatchBytes,
    });
  }

  get(keys: Buffer[]): Promise<Map<string, Item>> {
    if (keys.length === 0) return Promise.resolve(new Map());
    return this.reads.submit(keys, keys.length);
  }

  store(input: StoreInput): Promise<{ outcome: StoreOutcome; cas?: bigint }> {
    if (input.mode === 'set' && input.cas === 0n && input.value.length <= this.options.maxBatchBytes) {
      return this.writes.submit(input, Math.max(1, input.value.length));
    }
    return this.inner.store(input);
  }

  getAndTouch(keys: Buffer[], exptime: number): Promise<Map<string, Item>> {
    return this.inner.getAndTouch(keys, exptime);
  }

  delete(key: Buffer, cas?: bigint): Promise<'deleted' | 'not_found' | 'exists'> {
    return this.inner.delete(key, cas);
  }

  touch(key: Buffer, exptime: number): Promise<'touched' | 'not_found'> {
    return this.inner.touch(key, exptime);
  }

  arithmetic(input: ArithmeticInput): Promise<ArithmeticResult> {
    return this.inner.arithmetic(input);
  }

  flushAll(delay: number): Promise<void> {
    return this.inner.flushAll(delay);
  }
}
