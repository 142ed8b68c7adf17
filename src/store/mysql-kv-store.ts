import type { Logger } from 'winston';
import type { Item, StoreOutcome } from '../model/response.js';
import { AccessRecorder, type PendingAccess } from './access-recorder.js';
import { applyDelta } from './arithmetic.js';
import { keyBatches } from './batch-padding.js';
import type { CasAllocator } from './cas-allocator.js';
import { ConcurrentChangeError } from './errors.js';
import { toItem, toItems } from './item-rows.js';
import {
  ItemBit, mapKey, uniqueKeys, type ArithmeticInput, type ArithmeticResult, type ItemDecider, type KvStore, type StoreInput,
  type StoredItem,
} from './kv-store.js';
import type { Connection, DatabasePool, Intent } from './pool.js';
import { withRetry, type RetryPolicy } from './retry.js';
import { writeSetRows } from './set-rows.js';
import type { ItemValues } from './sql/insert-item.js';
import { itemStatements, type ItemStatements } from './sql/item-statements.js';
import type { ItemRow } from './sql/read-items.js';
import { transaction } from './sql/transaction.js';

export interface MysqlKvStoreOptions {
  table: string;
  itemSizeMax: number;
  /** attempts for a statement the server rolled back (deadlock, lock wait timeout) */
  maxAttempts?: number;
}

/**
 * KvStore over one MySQL/MariaDB table. Every command is one statement or one short
 * transaction holding row locks, so gateways sharing the table cannot interleave a
 * read-modify-write; expiry is always judged by UNIX_TIMESTAMP() on the database. The
 * statements, and what their results mean, are in sql/; this class decides which to run,
 * how often to try, and in which transaction.
 */
export class MysqlKvStore implements KvStore {
  private readonly sql: ItemStatements;
  private readonly accesses: AccessRecorder;

  constructor(
    private readonly pool: DatabasePool,
    private readonly casAllocator: CasAllocator,
    private readonly options: MysqlKvStoreOptions,
    private readonly logger: Logger,
  ) {
    this.sql = itemStatements(options.table, options.itemSizeMax);
    this.accesses = new AccessRecorder((accesses) => this.writeAccesses(accesses), logger);
  }

  /** Writes every access mark still queued; the gateway calls it when it stops. */
  flushAccesses(): Promise<void> {
    return this.accesses.settle();
  }

  async get(keys: Buffer[], options: { access?: 'record' | 'report' } = {}): Promise<Map<string, StoredItem>> {
    const unique = uniqueKeys(keys);
    if (unique.length === 0) return new Map();
    if (options.access === 'report') await Promise.all(unique.map((key) => this.settleAccesses(key)));
    const rows = await this.run('idempotent', () => this.db((c) => this.select(c, unique, false), 'read'));
    if (options.access === 'record') {
      // Only an item's first two reads change it, so reading a hot item records nothing.
      for (const row of rows) {
        if ((Number(row.item_state) & ItemBit.active) === 0) this.accesses.record(row.mkey, BigInt(row.cas_value));
      }
    }
    return toItems(rows);
  }

  /** Writes queued reads as accesses, each on the item version that was read. */
  private async writeAccesses(accesses: PendingAccess[]): Promise<void> {
    await this.run('idempotent', () => this.db((c) => transaction(c, async () => {
      // A second pass for items read again: their second read sets the access time.
      for (const pass of [accesses, accesses.filter((a) => a.reads === 2)]) {
        for (const batch of keyBatches(pass)) await this.sql.recordReads(c, batch);
      }
    })));
  }

  async getAndTouch(keys: Buffer[], exptime: number): Promise<Map<string, Item>> {
    const unique = uniqueKeys(keys);
    if (unique.length === 0) return new Map();
    return this.run('idempotent', () => this.db((c) => transaction(c, async () => {
      const rows = await this.select(c, unique, true);
      for (const batch of keyBatches(rows.map((r) => r.mkey))) await this.sql.touchItems(c, batch, exptime);
      return toItems(rows);
    })));
  }

  async store(input: StoreInput): Promise<{ outcome: StoreOutcome; cas?: bigint }> {
    // A stored value starts its item over: unread, no token, not stale.
    const bits = input.binaryKey ? ItemBit.binaryKey : 0;
    // set and replace may run again when a connection broke mid-statement; add, cas and
    // append/prepend could then take effect twice, so they only retry what never ran.
    const retry = input.mode === 'set' || input.mode === 'replace' ? 'idempotent' : 'once';
    return this.run(retry, async () => {
      // A fresh CAS for every attempt: a retry must never reuse a value another client saw.
      const cas = await this.casAllocator.allocate();
      const item: ItemValues = { key: input.key, value: input.value, flags: input.flags, cas, bits, exptime: input.exptime };
      const stored = (ok: boolean) => (ok ? { outcome: 'stored' as const, cas } : { outcome: 'not_stored' as const });
      return this.db(async (c): Promise<{ outcome: StoreOutcome; cas?: bigint }> => {
        switch (input.mode) {
          case 'set':
            await this.sql.setItem(c, item);
            return stored(true);
          case 'add':
            return stored(await this.sql.addItem(c, item));
          case 'replace':
            return stored(await this.sql.replaceItem(c, item));
          case 'cas': {
            // With invalidate, a token older than the item's (but not none) stores as stale.
            const ok = input.invalidate && input.cas !== 0n
              ? await this.sql.casOrStaleItem(c, item, input.cas)
              : await this.sql.casItem(c, item, input.cas);
            if (ok) return stored(true);
            return { outcome: (await this.sql.exists(c, input.key)) ? 'exists' : 'not_found' };
          }
          case 'append':
          case 'prepend': {
            if (await this.sql.concatItem(c, input.mode, { key: input.key, value: input.value, cas, token: input.cas })) {
              return stored(true);
            }
            // With a CAS (binary protocol), a live item holding another CAS is EXISTS, as in
            // memcached; a missing item or one with no room left is NOT_STORED.
            if (input.cas !== 0n) {
              const current = await this.sql.liveCas(c, input.key);
              if (current !== null && current !== input.cas) return { outcome: 'exists' };
            }
            return stored(false);
          }
        }
      });
    });
  }

  /**
   * Plain sets of several clients as multi-row upserts (set-rows.ts). Each row keeps its own
   * value, flags, expiry and a CAS of its own; for a key set twice the later row wins, as if
   * the sets had run one after another.
   */
  async setMany(inputs: StoreInput[]): Promise<Array<{ outcome: 'stored'; cas: bigint }>> {
    if (inputs.length === 0) return [];
    return this.run('idempotent', async () => {
      const cas: bigint[] = [];
      for (let i = 0; i < inputs.length; i++) cas.push(await this.casAllocator.allocate());
      const rows = inputs.map((input, i): ItemValues => {
        const bits = input.binaryKey ? ItemBit.binaryKey : 0;
        return { key: input.key, value: input.value, flags: input.flags, cas: cas[i]!, bits, exptime: input.exptime };
      });
      await this.db((c) => writeSetRows(c, rows, this.sql.setMany));
      return inputs.map((_, i) => ({ outcome: 'stored' as const, cas: cas[i]! }));
    });
  }

  async delete(
    key: Buffer, options: { cas?: bigint; invalidate?: { exptime?: number } } = {},
  ): Promise<'deleted' | 'not_found' | 'exists'> {
    const { cas, invalidate } = options;
    if (invalidate) return this.invalidate(key, cas, invalidate.exptime);
    return this.run(cas === undefined ? 'idempotent' : 'once', () => this.db(async (c) => {
      if (await this.sql.deleteItem(c, key, cas)) return 'deleted';
      return cas !== undefined && (await this.sql.exists(c, key)) ? 'exists' : 'not_found';
    }));
  }

  /** md I: the item stays, stale, with a fresh CAS and its recache token up for grabs again. */
  private async invalidate(key: Buffer, cas: bigint | undefined, exptime: number | undefined): Promise<'deleted' | 'not_found' | 'exists'> {
    await this.settleAccesses(key);
    return this.run('once', async () => {
      const freshCas = await this.casAllocator.allocate();
      return this.db(async (c) => {
        if (await this.sql.invalidateItem(c, { key, freshCas, exptime, cas })) return 'deleted';
        return cas !== undefined && (await this.sql.exists(c, key)) ? 'exists' : 'not_found';
      });
    });
  }

  async touch(key: Buffer, exptime: number): Promise<'touched' | 'not_found'> {
    return this.run('idempotent', () => this.db(async (c) => {
      if (await this.sql.touchItem(c, key, exptime)) return 'touched';
      // 0 changed rows is also what an unchanged expiry gives (same TTL in the same second).
      return (await this.sql.exists(c, key)) ? 'touched' : 'not_found';
    }));
  }

  async arithmetic(input: ArithmeticInput): Promise<ArithmeticResult> {
    await this.settleAccesses(input.key);
    return this.run('once', async () => {
      const cas = await this.casAllocator.allocate();
      return this.db((c) => transaction(c, async (): Promise<ArithmeticResult> => {
        const row = await this.sql.lockItem(c, input.key);
        if (!row) {
          if (!input.initial) return { outcome: 'not_found' };
          const value = input.initial.value;
          await this.create(c, {
            key: input.key, value: Buffer.from(value.toString()), flags: 0, cas, bits: 0, exptime: input.initial.exptime,
          });
          return { outcome: 'ok', value, cas, created: true, expiry: 0, now: await this.sql.now(c) };
        }
        // memcached finds an empty value non-numeric before it compares the CAS.
        if (row.string_value.length > 0 && input.cas && input.cas !== BigInt(row.cas_value)) return { outcome: 'exists' };
        const next = applyDelta(row.string_value, input.incr, input.delta);
        if (!next) return { outcome: 'non_numeric' };
        // Digits that fit are written in place (the item keeps its bits, a touch takes);
        // longer ones make a new item, which starts over and keeps the old exptime.
        const inPlace = next.stored.length === row.string_value.length;
        await this.sql.writeCounter(c, {
          key: input.key, digits: next.stored, cas, bits: inPlace ? Number(row.item_state) : 0,
          touch: inPlace && input.touchExptime !== undefined, exptime: input.touchExptime,
        });
        return { outcome: 'ok', value: next.value, cas, created: false, expiry: Number(row.expiry), now: Number(row.now) };
      }));
    });
  }

  async modify<T>(key: Buffer, decide: ItemDecider<T>): Promise<T> {
    await this.settleAccesses(key);
    return this.run('once', async () => {
      const cas = await this.casAllocator.allocate();
      return this.db((c) => transaction(c, async () => {
        const row = await this.sql.lockItem(c, key);
        const item = row ? toItem(row) : null;
        const { result, write } = decide(item, { cas, now: item ? item.now : await this.sql.now(c) });
        if (write && 'create' in write) {
          await this.create(c, { key, cas, ...write.create });
        } else if (write) {
          const { bits, exptime, newCas, accessed } = write.update;
          await this.sql.writeState(c, { key, bits, exptime, accessed: accessed ?? false, newCas: newCas ?? false, cas });
        }
        return result;
      }));
    });
  }

  /**
   * Writes the reads of this key still queued as accesses before the item changes in place:
   * they are written only on the version that was read, and a decision must see them.
   */
  private async settleAccesses(key: Buffer): Promise<void> {
    if (this.accesses.has(key)) await this.accesses.settle();
  }

  /**
   * Creates an item where none is live. Another gateway may create it between our read and
   * this insert: then the transaction starts over and finds the item that one made.
   */
  private async create(c: Connection, item: ItemValues): Promise<void> {
    if (!(await this.sql.addItem(c, item))) throw new ConcurrentChangeError();
  }

  async flushAll(delay: number): Promise<void> {
    // Each step is its own short statement with its own deadline, so a big table is flushed
    // in many quick batches rather than one long transaction. The deadline is recorded first,
    // so writes racing with the batches are capped too.
    const deadline = await this.run('idempotent', () => this.db((c) => this.sql.recordFlush(c, delay)));
    let after: Buffer | null = null;
    for (;;) {
      const from: Buffer | null = after;
      const upTo: Buffer | null = await this.run('idempotent', () => this.db((c) => this.sql.hideRange(c, deadline, from)));
      if (!upTo) return;
      after = upTo;
    }
  }

  /** Live rows for the keys, in batches of a few fixed sizes so few statements are prepared. */
  private async select(c: Connection, keys: Buffer[], lock: boolean): Promise<ItemRow[]> {
    const rows: ItemRow[] = [];
    for (const batch of keyBatches(keys)) rows.push(...(await this.sql.selectItems(c, batch, lock)));
    return rows;
  }

  private db<T>(fn: (c: Connection) => Promise<T>, intent: Intent = 'write'): Promise<T> {
    return this.pool.withConnection(fn, intent);
  }

  private run<T>(retry: RetryPolicy, attempt: () => Promise<T>): Promise<T> {
    return withRetry(this.pool, this.logger, retry, attempt, this.options.maxAttempts);
  }
}
