import type { Item, StoreOutcome } from '../model/response.js';
import type { BatchPolicy } from './batch-policy.js';
import { Batcher } from './batcher.js';
import {
  isPlainSet, type ArithmeticInput, type ArithmeticResult, type ItemDecider, type KvStore, type StoreInput, type StoredItem,
} from './kv-store.js';
import type { MysqlKvStore } from './mysql-kv-store.js';

export interface CoalescingOptions {
  /** merged reads running at once */
  maxInFlight: number;
  /** merged writes running at once (each a commit: several let the database group them) */
  maxWritesInFlight: number;
  /** most keys in one merged read, most value bytes and rows in one merged write (batch-policy.ts) */
  merge: BatchPolicy['merge'];
  /** ms a request that could start at once waits for others to merge with (0: none) */
  windowMs?: number;
}

/**
 * Merges what concurrent clients ask for: gets from any connections become one IN (…) read,
 * plain sets one multi-row upsert. Only merges that keep each command's meaning are made:
 * reads commute, and a plain set (no CAS, not add/replace/append) is an upsert whose effect
 * does not depend on what it overwrites. Everything else runs as its own statement.
 */
export class CoalescingStore implements KvStore {
  /** plain gets (their reads count as accesses), and reads that record nothing */
  private readonly reads: Record<'record' | 'none', Batcher<Buffer[], Map<string, StoredItem>>>;
  /** groups of plain sets; a group (one connection's pipelined sets) never splits across batches */
  private readonly writes: Batcher<StoreInput[], Array<{ outcome: 'stored'; cas: bigint }>>;
  /** how much merging happens: merged reads and writes run, and the keys and sets they held */
  readonly counts = { readBatches: 0, readKeys: 0, writeBatches: 0, writeSets: 0 };
  /** the least weight of a set, so tiny values cannot pack more than merge.maxWriteRows rows */
  private readonly minWriteWeight: number;

  constructor(private readonly inner: MysqlKvStore, private readonly options: CoalescingOptions) {
    this.minWriteWeight = Math.ceil(options.merge.maxWriteBytes / options.merge.maxWriteRows);
    const reads = (access?: 'record') => new Batcher<Buffer[], Map<string, StoredItem>>(
      async (requests) => {
        const keys = requests.flat();
        this.counts.readBatches++;
        this.counts.readKeys += keys.length;
        const found = await inner.get(keys, { access });
        return requests.map(() => found);
      },
      { maxInFlight: options.maxInFlight, maxWeight: options.merge.maxReadKeys, windowMs: options.windowMs },
    );
    this.reads = { record: reads('record'), none: reads() };
    this.writes = new Batcher(async (groups) => {
      const inputs = groups.flat();
      this.counts.writeBatches++;
      this.counts.writeSets += inputs.length;
      const results = await inner.setMany(inputs);
      let at = 0;
      return groups.map((group) => results.slice(at, (at += group.length)));
    }, {
      maxInFlight: options.maxWritesInFlight,
      maxWeight: options.merge.maxWriteBytes,
      windowMs: options.windowMs,
    });
  }

  get(keys: Buffer[], options: { access?: 'record' | 'report' } = {}): Promise<Map<string, StoredItem>> {
    if (keys.length === 0) return Promise.resolve(new Map());
    // 'report' first writes this gateway's queued accesses of the keys: a read of its own.
    if (options.access === 'report') return this.inner.get(keys, options);
    return this.reads[options.access ?? 'none'].submit(keys, keys.length);
  }

  store(input: StoreInput): Promise<{ outcome: StoreOutcome; cas?: bigint }> {
    if (isPlainSet(input) && input.value.length <= this.options.merge.maxWriteBytes) {
      return this.setMany([input]).then((results) => results[0]!);
    }
    return this.inner.store(input);
  }

  /**
   * A connection's pipelined sets join a merged write together, in their order: two batches
   * may commit in either order, so sets of one client must not be split between them.
   */
  setMany(inputs: StoreInput[]): Promise<Array<{ outcome: 'stored'; cas: bigint }>> {
    if (inputs.length === 0) return Promise.resolve([]);
    const weight = inputs.reduce((sum, input) => sum + this.writeWeight(input), 0);
    return this.writes.submit(inputs, weight);
  }

  /** A set's share of a merged write: its bytes, but at least 1/merge.maxWriteRows of it. */
  private writeWeight(input: StoreInput): number {
    return Math.max(input.key.length + input.value.length, this.minWriteWeight);
  }

  getAndTouch(keys: Buffer[], exptime: number): Promise<Map<string, Item>> {
    return this.inner.getAndTouch(keys, exptime);
  }

  delete(key: Buffer, options?: { cas?: bigint; invalidate?: { exptime?: number } }): Promise<'deleted' | 'not_found' | 'exists'> {
    return this.inner.delete(key, options);
  }

  touch(key: Buffer, exptime: number): Promise<'touched' | 'not_found'> {
    return this.inner.touch(key, exptime);
  }

  arithmetic(input: ArithmeticInput): Promise<ArithmeticResult> {
    return this.inner.arithmetic(input);
  }

  modify<T>(key: Buffer, decide: ItemDecider<T>): Promise<T> {
    return this.inner.modify(key, decide);
  }

  flushAll(delay: number): Promise<void> {
    return this.inner.flushAll(delay);
  }
}
