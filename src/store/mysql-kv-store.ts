import type { Logger } from 'winston';
import { ITEM_HEADER_BYTES } from '../model/item-rules.js';
import type { Item, StoreOutcome } from '../model/response.js';
import { AccessRecorder, type PendingAccess } from './access-recorder.js';
import { applyDelta } from './arithmetic.js';
import { READ_KEY_COUNTS, SET_ROW_COUNTS, statementSize } from './batch-policy.js';
import type { CasAllocator } from './cas-allocator.js';
import { ConcurrentChangeError } from './errors.js';
import { EXPIRED_SQL, EXPIRY_SQL, LIVE_SQL, PENDING_FLUSH_VAR, cappedExpirySql, expiryParams, pendingFlushSet } from './expiry.js';
import {
  ItemBit, mapKey, type ArithmeticInput, type ArithmeticResult, type ItemDecider, type KvStore, type StoreInput,
  type StoredItem,
} from './kv-store.js';
import type { Connection, DatabasePool, Intent } from './pool.js';
import { withRetry, type RetryPolicy } from './retry.js';

interface ItemRow {
  mkey: Buffer;
  string_value: Buffer;
  flags: number;
  cas_value: string;
  expiry: number | string;
  item_state: number | string;
  accessed_at: number | string;
  now: number | string;
}

interface WriteResult {
  affectedRows: number;
}

export interface MysqlKvStoreOptions {
  table: string;
  itemSizeMax: number;
  /** attempts for a statement the server rolled back (deadlock, lock wait timeout) */
  maxAttempts?: number;
}

const COLUMNS = 'mkey, string_value, flags, cas_value, expiry, item_state, accessed_at, UNIX_TIMESTAMP() AS now';
const FLUSH_BATCH = 5000;

/**
 * KvStore over one MySQL/MariaDB table. Every command is one statement or one short
 * transaction holding row locks, so gateways sharing the table cannot interleave a
 * read-modify-write; expiry is always judged by UNIX_TIMESTAMP() on the database.
 */
export class MysqlKvStore implements KvStore {
  private readonly t: string;
  private readonly sql: ReturnType<typeof buildStatements>;
  private readonly accesses: AccessRecorder;

  constructor(
    private readonly pool: DatabasePool,
    private readonly casAllocator: CasAllocator,
    private readonly options: MysqlKvStoreOptions,
    private readonly logger: Logger,
  ) {
    this.t = `\`${options.table}\``;
    this.sql = buildStatements(this.t, options.table);
    this.accesses = new AccessRecorder((accesses) => this.writeAccesses(accesses), logger);
  }

  /** Writes every access mark still queued; the gateway calls it when it stops. */
  flushAccesses(): Promise<void> {
    return this.accesses.settle();
  }

  async get(keys: Buffer[], options: { access?: 'record' | 'report' } = {}): Promise<Map<string, StoredItem>> {
    const unique = dedupe(keys);
    if (unique.length === 0) return new Map();
    if (options.access === 'report') await Promise.all(unique.map((key) => this.settleAccesses(key)));
    const rows = await this.run('idempotent', () => this.db((c) => this.select(c, unique, ''), 'read'));
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
        for (const batch of keyBatches(pass)) {
          await c.execute(this.sql.bumpMany(batch.length), [
            ...batch.map((a) => a.key), ...batch.map((a) => a.cas.toString()),
          ]);
        }
      }
    })));
  }

  async getAndTouch(keys: Buffer[], exptime: number): Promise<Map<string, Item>> {
    const unique = dedupe(keys);
    if (unique.length === 0) return new Map();
    return this.run('idempotent', () => this.db((c) => transaction(c, async () => {
      const rows = await this.select(c, unique, ' FOR UPDATE');
      for (const batch of keyBatches(rows.map((r) => r.mkey))) {
        await c.execute(
          this.sql.touchMany(batch.length),
          [...expiryParams(exptime), ...batch],
        );
      }
      return toItems(rows);
    })));
  }

  async store(input: StoreInput): Promise<{ outcome: StoreOutcome; cas?: bigint }> {
    const expiry = expiryParams(input.exptime);
    // A stored value starts its item over: unread, no token, not stale.
    const bits = input.binaryKey ? ItemBit.binaryKey : 0;
    // set and replace may run again when a connection broke mid-statement; add, cas and
    // append/prepend could then take effect twice, so they only retry what never ran.
    const retry = input.mode === 'set' || input.mode === 'replace' ? 'idempotent' : 'once';
    return this.run(retry, async () => {
      // A fresh CAS for every attempt: a retry must never reuse a value another client saw.
      const cas = await this.casAllocator.allocate();
      const casText = cas.toString();
      const stored = (ok: boolean) => (ok ? { outcome: 'stored' as const, cas } : { outcome: 'not_stored' as const });
      return this.db(async (c): Promise<{ outcome: StoreOutcome; cas?: bigint }> => {
        switch (input.mode) {
          case 'set':
            await c.execute(this.sql.set, [input.key, input.value, input.flags, casText, bits, ...expiry]);
            return stored(true);
          case 'add': {
            const [r] = await c.execute(this.sql.add, [input.key, input.value, input.flags, casText, bits, ...expiry]);
            // 1: inserted, 2: replaced an expired row, 0: a live row was left alone
            return stored((r as WriteResult).affectedRows > 0);
          }
          case 'replace': {
            const [r] = await c.execute(this.sql.replace, [input.value, input.flags, casText, bits, ...expiry, input.key]);
            return stored((r as WriteResult).affectedRows === 1);
          }
          case 'cas': {
            const token = input.cas.toString();
            // With invalidate, a token older than the item's (but not none) stores as stale.
            const [r] = input.invalidate && input.cas !== 0n
              ? await c.execute(this.sql.casOrStale, [
                input.value, input.flags, token, ...expiry, token, bits, bits | ItemBit.stale, casText, input.key, token,
              ])
              : await c.execute(this.sql.cas, [input.value, input.flags, casText, bits, ...expiry, input.key, token]);
            if ((r as WriteResult).affectedRows === 1) return stored(true);
            return { outcome: (await this.exists(c, input.key)) ? 'exists' : 'not_found' };
          }
          case 'append':
          case 'prepend': {
            // memcached refuses (NOT_STORED) an append whose result would exceed item_size_max.
            const room = this.options.itemSizeMax - ITEM_HEADER_BYTES - (input.key.length + 1) - 2 - input.value.length;
            const statement = input.mode === 'append' ? this.sql.append : this.sql.prepend;
            const [r] = await c.execute(statement, [input.value, casText, input.key, room, input.cas.toString()]);
            if ((r as WriteResult).affectedRows === 1) return stored(true);
            // With a CAS (binary protocol), a live item holding another CAS is EXISTS, as in
            // memcached; a missing item or one with no room left is NOT_STORED.
            if (input.cas !== 0n) {
              const current = await this.liveCas(c, input.key);
              if (current !== null && current !== input.cas) return { outcome: 'exists' };
            }
            return stored(false);
          }
        }
      });
    });
  }

  /**
   * Plain sets of several clients as one multi-row upsert. Each row keeps its own value, flags,
   * expiry and a CAS of its own; rows for the same key apply in the order given, so the last
   * writer wins as if the sets had run one after another. Rows are sorted by key so that
   * concurrent batches lock rows in the same order.
   */
  async setMany(inputs: StoreInput[]): Promise<Array<{ outcome: 'stored'; cas: bigint }>> {
    if (inputs.length === 0) return [];
    return this.run('idempotent', async () => {
      const cas: bigint[] = [];
      for (let i = 0; i < inputs.length; i++) cas.push(await this.casAllocator.allocate());
      const order = inputs.map((_, i) => i).sort((x, y) => Buffer.compare(inputs[x]!.key, inputs[y]!.key) || x - y);
      const statements: Array<{ sql: string; params: unknown[] }> = [];
      for (let from = 0; from < order.length; from += MAX_SET_ROWS) {
        const rows = order.slice(from, from + MAX_SET_ROWS);
        const size = statementSize(SET_ROW_COUNTS, rows.length);
        if (rows.length < size) {
          const pad = paddingRow(rows, inputs);
          while (rows.length < size) rows.push(pad);
        }
        const params = rows.flatMap((i) => {
          const input = inputs[i]!;
          return [input.key, input.value, input.flags, cas[i]!.toString(), input.binaryKey ? ItemBit.binaryKey : 0, ...expiryParams(input.exptime)];
        });
        statements.push({ sql: this.sql.setMany(size), params });
      }
      await this.db(async (c) => {
        if (statements.length === 1) {
          await c.execute(statements[0]!.sql, statements[0]!.params);
          return;
        }
        // Rows are sorted, so several statements lock in key order too; one transaction
        // keeps the sets all-or-nothing, as one statement would.
        await transaction(c, async () => {
          for (const { sql, params } of statements) await c.execute(sql, params);
        });
      });
      return inputs.map((_, i) => ({ outcome: 'stored' as const, cas: cas[i]! }));
    });
  }

  async delete(
    key: Buffer, options: { cas?: bigint; invalidate?: { exptime?: number } } = {},
  ): Promise<'deleted' | 'not_found' | 'exists'> {
    const { cas, invalidate } = options;
    if (invalidate) return this.invalidate(key, cas, invalidate.exptime);
    return this.run(cas === undefined ? 'idempotent' : 'once', () => this.db(async (c) => {
      if (cas === undefined) {
        const [r] = await c.execute(this.sql.delete, [key]);
        return (r as WriteResult).affectedRows === 1 ? 'deleted' : 'not_found';
      }
      const [r] = await c.execute(this.sql.deleteCas, [key, cas.toString()]);
      if ((r as WriteResult).affectedRows === 1) return 'deleted';
      return (await this.exists(c, key)) ? 'exists' : 'not_found';
    }));
  }

  /** md I: the item stays, stale, with a fresh CAS and its recache token up for grabs again. */
  private async invalidate(key: Buffer, cas: bigint | undefined, exptime: number | undefined): Promise<'deleted' | 'not_found' | 'exists'> {
    await this.settleAccesses(key);
    return this.run('once', async () => {
      const fresh = (await this.casAllocator.allocate()).toString();
      const ttl = [exptime === undefined ? 0 : 1, ...expiryParams(exptime ?? 0)];
      return this.db(async (c) => {
        const [r] = cas === undefined
          ? await c.execute(this.sql.invalidate, [...ttl, fresh, key])
          : await c.execute(this.sql.invalidateCas, [...ttl, fresh, key, cas.toString()]);
        if ((r as WriteResult).affectedRows === 1) return 'deleted';
        return cas !== undefined && (await this.exists(c, key)) ? 'exists' : 'not_found';
      });
    });
  }

  async touch(key: Buffer, exptime: number): Promise<'touched' | 'not_found'> {
    return this.run('idempotent', () => this.db(async (c) => {
      const [r] = await c.execute(this.sql.touch, [...expiryParams(exptime), key]);
      if ((r as WriteResult).affectedRows === 1) return 'touched';
      // 0 changed rows is also what an unchanged expiry gives (same TTL in the same second).
      return (await this.exists(c, key)) ? 'touched' : 'not_found';
    }));
  }

  async arithmetic(input: ArithmeticInput): Promise<ArithmeticResult> {
    await this.settleAccesses(input.key);
    return this.run('once', async () => {
      const cas = await this.casAllocator.allocate();
      return this.db((c) => transaction(c, async (): Promise<ArithmeticResult> => {
        const row = (await this.lockedRows(c, input.key))[0];
        if (!row) {
          if (!input.initial) return { outcome: 'not_found' };
          const value = input.initial.value;
          await this.create(c, input.key, {
            value: Buffer.from(value.toString()), flags: 0, exptime: input.initial.exptime, bits: 0,
          }, cas);
          return { outcome: 'ok', value, cas, created: true, expiry: 0, now: await this.now(c) };
        }
        // memcached finds an empty value non-numeric before it compares the CAS.
        if (row.string_value.length > 0 && input.cas && input.cas !== BigInt(row.cas_value)) return { outcome: 'exists' };
        const next = applyDelta(row.string_value, input.incr, input.delta);
        if (!next) return { outcome: 'non_numeric' };
        // Digits that fit are written in place (the item keeps its bits, a touch takes);
        // longer ones make a new item, which starts over and keeps the old exptime.
        const inPlace = next.stored.length === row.string_value.length;
        const touch = inPlace && input.touchExptime !== undefined;
        await c.execute(this.sql.writeCounter, [
          next.stored, cas.toString(), inPlace ? Number(row.item_state) : 0,
          touch ? 1 : 0, ...expiryParams(input.touchExptime ?? 0), input.key,
        ]);
        return { outcome: 'ok', value: next.value, cas, created: false, expiry: Number(row.expiry), now: Number(row.now) };
      }));
    });
  }

  async modify<T>(key: Buffer, decide: ItemDecider<T>): Promise<T> {
    await this.settleAccesses(key);
    return this.run('once', async () => {
      const cas = await this.casAllocator.allocate();
      return this.db((c) => transaction(c, async () => {
        const row = (await this.lockedRows(c, key))[0];
        const item = row ? toItem(row) : null;
        const { result, write } = decide(item, { cas, now: item ? item.now : await this.now(c) });
        if (write && 'create' in write) {
          await this.create(c, key, write.create, cas);
        } else if (write) {
          const { bits, exptime, newCas, accessed } = write.update;
          await c.execute(this.sql.writeState, [
            exptime === undefined ? 0 : 1, ...expiryParams(exptime ?? 0), accessed ? 1 : 0, bits,
            newCas ? 1 : 0, cas.toString(), key,
          ]);
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

  /** The live row for a key, locked until the transaction ends. */
  private async lockedRows(c: Connection, key: Buffer): Promise<ItemRow[]> {
    const [rows] = await c.execute(this.sql.lockItem, [key]);
    return rows as ItemRow[];
  }

  /**
   * Creates an item where none is live. Another gateway may create it between our read and
   * this insert: then the transaction starts over and finds the item that one made.
   */
  private async create(
    c: Connection, key: Buffer, item: { value: Buffer; flags: number; exptime: number; bits: number }, cas: bigint,
  ): Promise<void> {
    const [r] = await c.execute(this.sql.add, [
      key, item.value, item.flags, cas.toString(), item.bits, ...expiryParams(item.exptime),
    ]);
    if ((r as WriteResult).affectedRows === 0) throw new ConcurrentChangeError();
  }

  private async now(c: Connection): Promise<number> {
    const [rows] = await c.execute('SELECT UNIX_TIMESTAMP() AS now');
    return Number((rows as Array<{ now: number | string }>)[0]!.now);
  }

  async flushAll(delay: number): Promise<void> {
    // Each step is its own short statement with its own deadline, so a big table is flushed
    // in many quick batches rather than one long transaction.
    const deadline = await this.run('idempotent', () => this.db(async (c) => {
      const [rows] = await c.execute(`SELECT ${delay > 0 ? EXPIRY_SQL : 'UNIX_TIMESTAMP()'} AS deadline`,
        delay > 0 ? expiryParams(delay) : []);
      const at = Number((rows as Array<{ deadline: number | string }>)[0]!.deadline);
      // Recorded first, so writes racing with the batches below are capped too; a flush
      // without delay records "now", which also cancels a pending delayed one, as in memcached.
      await c.execute(
        'INSERT INTO memgate_flush (name, flush_at) VALUES (?, ?) ON DUPLICATE KEY UPDATE flush_at = VALUES(flush_at)',
        [this.options.table, at],
      );
      return at;
    }));
    let after: Buffer | null = null;
    for (;;) {
      const from: Buffer | null = after;
      const upTo: Buffer | null = await this.run('idempotent', () => this.db(async (c): Promise<Buffer | null> => {
        const [bounds]: [unknown, unknown] = await c.execute(
          `SELECT mkey FROM ${this.t}${from ? ' WHERE mkey > ?' : ''} ORDER BY mkey LIMIT 1 OFFSET ${FLUSH_BATCH - 1}`,
          from ? [from] : [],
        );
        const last: Buffer | null = (bounds as Array<{ mkey: Buffer }>)[0]?.mkey ?? null;
        const range = [from ? 'mkey > ?' : '', last ? 'mkey <= ?' : ''].filter(Boolean).join(' AND ');
        await c.execute(
          `UPDATE ${this.t} SET expiry = ? WHERE (expiry = 0 OR expiry > ?)${range ? ` AND ${range}` : ''}`,
          [deadline, deadline, ...(from ? [from] : []), ...(last ? [last] : [])],
        );
        return last;
      }));
      if (!upTo) return;
      after = upTo;
    }
  }

  /** Live rows for the keys, in batches of a few fixed sizes so few statements are prepared. */
  private async select(c: Connection, keys: Buffer[], suffix: string): Promise<ItemRow[]> {
    const rows: ItemRow[] = [];
    for (const batch of keyBatches(keys)) {
      const [found] = await c.execute(selectItemsSql(this.t, batch.length, suffix), batch);
      rows.push(...(found as ItemRow[]));
    }
    return rows;
  }

  private async exists(c: Connection, key: Buffer): Promise<boolean> {
    const [rows] = await c.execute(this.sql.exists, [key]);
    return (rows as unknown[]).length > 0;
  }

  private async liveCas(c: Connection, key: Buffer): Promise<bigint | null> {
    const [rows] = await c.execute(this.sql.liveCas, [key]);
    const row = (rows as Array<{ cas_value: string }>)[0];
    return row ? BigInt(row.cas_value) : null;
  }

  private db<T>(fn: (c: Connection) => Promise<T>, intent: Intent = 'write'): Promise<T> {
    return this.pool.withConnection(fn, intent);
  }

  private run<T>(retry: RetryPolicy, attempt: () => Promise<T>): Promise<T> {
    return withRetry(this.pool, this.logger, retry, attempt, this.options.maxAttempts);
  }
}

/**
 * The live rows of n keys (t: the quoted table name), the statement of every read. The primary
 * key is forced: the liveness test lets the optimizer consider expiry_idx, which InnoDB extends
 * to (expiry, mkey), and with it `expiry = 0 AND mkey IN (…)` is one range per key that it
 * estimates by looking each one up ("index dives") before it settles on the primary key anyway.
 */
export function selectItemsSql(t: string, n: number, suffix = ''): string {
  return `SELECT ${COLUMNS} FROM ${t} FORCE INDEX (PRIMARY) WHERE mkey IN (${placeholders(n)}) AND ${LIVE_SQL}${suffix}`;
}

/** The store's statements for a table (t: its quoted name); exported for bench/sql-probes.ts. */
export function buildStatements(t: string, table: string) {
  const expiry = cappedExpirySql(table);
  const now = 'UNIX_TIMESTAMP()';
  const insert = `INSERT INTO ${t} (mkey, string_value, flags, cas_value, item_state, accessed_at, expiry) VALUES (?, ?, ?, CAST(? AS UNSIGNED), ?, ${now}, ${expiry})`;
  // In ON DUPLICATE KEY UPDATE and in UPDATE, assignments run left to right and later ones
  // see earlier results, so a column a condition reads is assigned after that condition.
  const ifExpired = (column: string) => `${column} = IF(${EXPIRED_SQL}, VALUES(${column}), ${column})`;
  const written = `item_state = ?, accessed_at = ${now}`;
  // A read: the first marks the item fetched, the second also records the access time.
  const fetched = ItemBit.fetched;
  const bump = `accessed_at = IF(item_state & ${fetched}, ${now}, accessed_at), item_state = item_state | IF(item_state & ${fetched}, ${ItemBit.active}, ${fetched})`;
  const invalidate = `expiry = IF(?, ${expiry}, expiry), item_state = (item_state | ${ItemBit.stale}) & ~${ItemBit.tokenSent}, cas_value = CAST(? AS UNSIGNED)`;
  const upsert = 'ON DUPLICATE KEY UPDATE string_value = VALUES(string_value), flags = VALUES(flags), cas_value = VALUES(cas_value), item_state = VALUES(item_state), accessed_at = VALUES(accessed_at), expiry = VALUES(expiry)';
  // The first row reads the pending flush_all once (its accessed_at is now either way), every
  // row caps its expiry with what it read.
  const manyExpiry = cappedExpirySql(table, PENDING_FLUSH_VAR);
  const firstRow = `(?, ?, ?, CAST(? AS UNSIGNED), ?, IF(${pendingFlushSet(table)} IS NULL, ${now}, ${now}), ${manyExpiry})`;
  const row = `(?, ?, ?, CAST(? AS UNSIGNED), ?, ${now}, ${manyExpiry})`;
  return {
    set: `${insert} ${upsert}`,
    setMany: (n: number) => `INSERT INTO ${t} (mkey, string_value, flags, cas_value, item_state, accessed_at, expiry) VALUES ${[firstRow, ...new Array<string>(n - 1).fill(row)].join(', ')} ${upsert}`,
    add: `${insert} ON DUPLICATE KEY UPDATE ${['string_value', 'flags', 'cas_value', 'item_state', 'accessed_at', 'expiry'].map(ifExpired).join(', ')}`,
    replace: `UPDATE ${t} SET string_value = ?, flags = ?, cas_value = CAST(? AS UNSIGNED), ${written}, expiry = ${expiry} WHERE mkey = ? AND ${LIVE_SQL}`,
    cas: `UPDATE ${t} SET string_value = ?, flags = ?, cas_value = CAST(? AS UNSIGNED), ${written}, expiry = ${expiry} WHERE mkey = ? AND ${LIVE_SQL} AND cas_value = CAST(? AS UNSIGNED)`,
    /** ms I: a matching CAS stores as usual; an older one keeps the exptime and the token, and marks stale */
    casOrStale: `UPDATE ${t} SET string_value = ?, flags = ?, expiry = IF(cas_value = CAST(? AS UNSIGNED), ${expiry}, expiry), item_state = IF(cas_value = CAST(? AS UNSIGNED), ?, ? | (item_state & ${ItemBit.tokenSent})), accessed_at = ${now}, cas_value = CAST(? AS UNSIGNED) WHERE mkey = ? AND ${LIVE_SQL} AND cas_value >= CAST(? AS UNSIGNED)`,
    append: `UPDATE ${t} SET string_value = CONCAT(string_value, ?), cas_value = CAST(? AS UNSIGNED), item_state = 0, accessed_at = ${now} WHERE mkey = ? AND ${LIVE_SQL} AND LENGTH(string_value) + IF(flags = 0, 0, 4) <= ? AND CAST(? AS UNSIGNED) IN (0, cas_value)`,
    prepend: `UPDATE ${t} SET string_value = CONCAT(?, string_value), cas_value = CAST(? AS UNSIGNED), item_state = 0, accessed_at = ${now} WHERE mkey = ? AND ${LIVE_SQL} AND LENGTH(string_value) + IF(flags = 0, 0, 4) <= ? AND CAST(? AS UNSIGNED) IN (0, cas_value)`,
    delete: `DELETE FROM ${t} WHERE mkey = ? AND ${LIVE_SQL}`,
    deleteCas: `DELETE FROM ${t} WHERE mkey = ? AND ${LIVE_SQL} AND cas_value = CAST(? AS UNSIGNED)`,
    invalidate: `UPDATE ${t} SET ${invalidate} WHERE mkey = ? AND ${LIVE_SQL}`,
    invalidateCas: `UPDATE ${t} SET ${invalidate} WHERE mkey = ? AND ${LIVE_SQL} AND cas_value = CAST(? AS UNSIGNED)`,
    touch: `UPDATE ${t} SET expiry = ${expiry}, ${bump} WHERE mkey = ? AND ${LIVE_SQL}`,
    /** gat: the rows were read and locked in the same transaction */
    touchMany: (n: number) => `UPDATE ${t} SET expiry = ${expiry}, ${bump} WHERE mkey IN (${placeholders(n)})`,
    /** reads recorded by AccessRecorder; CAS values are unique across keys, so the pairs match exactly */
    bumpMany: (n: number) => `UPDATE ${t} FORCE INDEX (PRIMARY) SET ${bump} WHERE mkey IN (${placeholders(n)}) AND cas_value IN (${new Array(n).fill('CAST(? AS UNSIGNED)').join(', ')}) AND (item_state & ${ItemBit.active}) = 0 AND ${LIVE_SQL}`,
    lockItem: `SELECT ${COLUMNS} FROM ${t} WHERE mkey = ? AND ${LIVE_SQL} FOR UPDATE`,
    /** incr/decr: the row was locked by lockItem in the same transaction */
    writeCounter: `UPDATE ${t} SET string_value = ?, cas_value = CAST(? AS UNSIGNED), ${written}, expiry = IF(?, ${expiry}, expiry) WHERE mkey = ?`,
    /** a meta read-modify-write: the row was locked by lockItem in the same transaction */
    writeState: `UPDATE ${t} SET expiry = IF(?, ${expiry}, expiry), accessed_at = IF(?, ${now}, accessed_at), item_state = ?, cas_value = IF(?, CAST(? AS UNSIGNED), cas_value) WHERE mkey = ?`,
    exists: `SELECT 1 FROM ${t} WHERE mkey = ? AND ${LIVE_SQL}`,
    liveCas: `SELECT cas_value FROM ${t} WHERE mkey = ? AND ${LIVE_SQL}`,
  };
}

async function transaction<T>(c: Connection, fn: () => Promise<T>): Promise<T> {
  await c.query('START TRANSACTION');
  try {
    const result = await fn();
    await c.query('COMMIT');
    return result;
  } catch (error) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

const MAX_SET_ROWS = SET_ROW_COUNTS[SET_ROW_COUNTS.length - 1]!;

/**
 * The row a merged write is padded with: writing a key's last row of the statement once more,
 * at its end, leaves the same result. The one with the smallest value, so padding a statement
 * that holds one big value does not repeat that value.
 */
function paddingRow(rows: number[], inputs: StoreInput[]): number {
  let best = rows[rows.length - 1]!;
  for (let j = 0; j < rows.length; j++) {
    const input = inputs[rows[j]!]!;
    const lastOfKey = j === rows.length - 1 || !inputs[rows[j + 1]!]!.key.equals(input.key);
    if (lastOfKey && input.value.length < inputs[best]!.value.length) best = rows[j]!;
  }
  return best;
}

/** Keys as IN-lists of the sizes READ_KEY_COUNTS allows, the last one padded by repeating a key. */
function keyBatches<T>(keys: T[]): T[][] {
  const largest = READ_KEY_COUNTS[READ_KEY_COUNTS.length - 1]!;
  const batches: T[][] = [];
  for (let i = 0; i < keys.length; i += largest) {
    const batch = keys.slice(i, i + largest);
    const size = statementSize(READ_KEY_COUNTS, batch.length);
    while (batch.length < size) batch.push(batch[batch.length - 1]!);
    batches.push(batch);
  }
  return batches;
}

function placeholders(n: number): string {
  return new Array(n).fill('?').join(', ');
}

function dedupe(keys: Buffer[]): Buffer[] {
  const seen = new Map<string, Buffer>();
  for (const key of keys) seen.set(mapKey(key), key);
  return [...seen.values()];
}

function toItem(row: ItemRow): StoredItem {
  return {
    key: row.mkey,
    value: row.string_value,
    flags: Number(row.flags),
    cas: BigInt(row.cas_value),
    expiry: Number(row.expiry),
    accessedAt: Number(row.accessed_at),
    bits: Number(row.item_state),
    now: Number(row.now),
  };
}

function toItems(rows: ItemRow[]): Map<string, StoredItem> {
  return new Map(rows.map((row) => [mapKey(row.mkey), toItem(row)]));
}
