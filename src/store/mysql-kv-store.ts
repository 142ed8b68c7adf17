import type { Logger } from 'winston';
import { ITEM_HEADER_BYTES } from '../protocol/limits.js';
import type { Item, StoreOutcome } from '../protocol/response.js';
import { applyDelta } from './arithmetic.js';
import type { CasAllocator } from './cas-allocator.js';
import { ConcurrentChangeError, DatabaseQueryError, DatabaseUnavailableError } from './errors.js';
import { EXPIRED_SQL, EXPIRY_SQL, LIVE_SQL, cappedExpirySql, expiryParams } from './expiry.js';
import { mapKey, type ArithmeticInput, type ArithmeticResult, type KvStore, type StoreInput } from './kv-store.js';
import { classifyMysqlError, errorCode } from './mysql-errors.js';
import type { Connection, DatabasePool } from './pool.js';

interface ItemRow {
  mkey: Buffer;
  string_value: Buffer;
  flags: number;
  cas_value: string;
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

const COLUMNS = 'mkey, string_value, flags, cas_value';
const FLUSH_BATCH = 5000;

/**
 * KvStore over one MySQL/MariaDB table. Every command is one statement or one short
 * transaction holding row locks, so gateways sharing the table cannot interleave a
 * read-modify-write; expiry is always judged by UNIX_TIMESTAMP() on the database.
 */
export class MysqlKvStore implements KvStore {
  private readonly t: string;
  private readonly sql: ReturnType<typeof buildStatements>;

  constructor(
    private readonly pool: DatabasePool,
    private readonly casAllocator: CasAllocator,
    private readonly options: MysqlKvStoreOptions,
    private readonly logger: Logger,
  ) {
    this.t = `\`${options.table}\``;
    this.sql = buildStatements(this.t, options.table);
  }

  async get(keys: Buffer[]): Promise<Map<string, Item>> {
    const unique = dedupe(keys);
    if (unique.length === 0) return new Map();
    return this.run('idempotent', () => this.db(async (c) => toItems(await this.select(c, unique, ''))));
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
            await c.execute(this.sql.set, [input.key, input.value, input.flags, casText, ...expiry]);
            return stored(true);
          case 'add': {
            const [r] = await c.execute(this.sql.add, [input.key, input.value, input.flags, casText, ...expiry]);
            // 1: inserted, 2: replaced an expired row, 0: a live row was left alone
            return stored((r as WriteResult).affectedRows > 0);
          }
          case 'replace': {
            const [r] = await c.execute(this.sql.replace, [input.value, input.flags, casText, ...expiry, input.key]);
            return stored((r as WriteResult).affectedRows === 1);
          }
          case 'cas': {
            const [r] = await c.execute(this.sql.cas, [
              input.value, input.flags, casText, ...expiry, input.key, input.cas.toString(),
            ]);
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
      const size = SET_BATCH_SIZES.find((n) => n >= order.length) ?? order.length;
      // Padding repeats the last row: writing the same row twice leaves the same result.
      while (order.length < size) order.push(order[order.length - 1]!);
      const params = order.flatMap((i) => {
        const input = inputs[i]!;
        return [input.key, input.value, input.flags, cas[i]!.toString(), ...expiryParams(input.exptime)];
      });
      await this.db((c) => c.execute(this.sql.setMany(size), params));
      return inputs.map((_, i) => ({ outcome: 'stored' as const, cas: cas[i]! }));
    });
  }

  async delete(key: Buffer, cas = 0n): Promise<'deleted' | 'not_found' | 'exists'> {
    return this.run(cas === 0n ? 'idempotent' : 'once', () => this.db(async (c) => {
      if (cas === 0n) {
        const [r] = await c.execute(this.sql.delete, [key]);
        return (r as WriteResult).affectedRows === 1 ? 'deleted' : 'not_found';
      }
      const [r] = await c.execute(this.sql.deleteCas, [key, cas.toString()]);
      if ((r as WriteResult).affectedRows === 1) return 'deleted';
      return (await this.exists(c, key)) ? 'exists' : 'not_found';
    }));
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
    return this.run('once', async () => {
      const cas = await this.casAllocator.allocate();
      return this.db((c) => transaction(c, async (): Promise<ArithmeticResult> => {
        const [rows] = await c.execute(this.sql.lockValue, [input.key]);
        const row = (rows as Array<{ string_value: Buffer; cas_value: string }>)[0];
        if (row && input.cas && input.cas !== BigInt(row.cas_value)) return { outcome: 'exists' };
        if (!row) {
          if (!input.initial) return { outcome: 'not_found' };
          const value = input.initial.value;
          const [r] = await c.execute(this.sql.add, [
            input.key, Buffer.from(value.toString()), 0, cas.toString(), ...expiryParams(input.initial.exptime),
          ]);
          // Another gateway created the counter between our read and our insert: start over
          // and apply the delta to the counter it made.
          if ((r as WriteResult).affectedRows === 0) throw new ConcurrentChangeError();
          return { outcome: 'ok', value, cas, created: true };
        }
        const next = applyDelta(row.string_value, input.incr, input.delta);
        if (!next) return { outcome: 'non_numeric' };
        await c.execute(this.sql.writeCounter, [next.stored, cas.toString(), input.key]);
        return { outcome: 'ok', value: next.value, cas };
      }));
    });
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
      const [found] = await c.execute(
        `SELECT ${COLUMNS} FROM ${this.t} WHERE mkey IN (${placeholders(batch.length)}) AND ${LIVE_SQL}${suffix}`,
        batch,
      );
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

  private db<T>(fn: (c: Connection) => Promise<T>): Promise<T> {
    return this.pool.withConnection(fn);
  }

  /**
   * Runs one attempt after another under the retry policy. Work the server rolled back
   * (deadlock, lock wait timeout, a concurrent creation) runs again; so does work that never
   * reached the database. After a connection broke mid-statement, only idempotent commands
   * run again: the statement may already have taken effect.
   */
  private async run<T>(retry: 'idempotent' | 'once', attempt: () => Promise<T>): Promise<T> {
    const maxAttempts = this.options.maxAttempts ?? 4;
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (error) {
        const unavailable = error instanceof DatabaseUnavailableError;
        const rolledBack = error instanceof ConcurrentChangeError || classifyMysqlError(error) === 'rolled_back';
        const again = n < maxAttempts && (rolledBack
          || (unavailable && !this.pool.down && (retry === 'idempotent' || !error.maybeApplied)));
        if (again) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * n));
          continue;
        }
        if (unavailable) throw error;
        if (rolledBack) throw new DatabaseQueryError('database busy: too many conflicting writes', errorCode(error), { cause: error });
        const code = errorCode(error);
        this.logger.error('database statement failed', { code, error: (error as Error).message });
        throw new DatabaseQueryError(`database error${code ? ` ${code}` : ''}`, code, { cause: error });
      }
    }
  }
}

function buildStatements(t: string, table: string) {
  const expiry = cappedExpirySql(table);
  const insert = `INSERT INTO ${t} (mkey, string_value, flags, cas_value, expiry) VALUES (?, ?, ?, CAST(? AS UNSIGNED), ${expiry})`;
  // In ON DUPLICATE KEY UPDATE, assignments run left to right and later ones see earlier
  // results, so expiry, which the condition reads, is assigned last.
  const ifExpired = (column: string) => `${column} = IF(${EXPIRED_SQL}, VALUES(${column}), ${column})`;
  const upsert = 'ON DUPLICATE KEY UPDATE string_value = VALUES(string_value), flags = VALUES(flags), cas_value = VALUES(cas_value), expiry = VALUES(expiry)';
  const row = `(?, ?, ?, CAST(? AS UNSIGNED), ${expiry})`;
  return {
    set: `${insert} ${upsert}`,
    setMany: (n: number) => `INSERT INTO ${t} (mkey, string_value, flags, cas_value, expiry) VALUES ${new Array(n).fill(row).join(', ')} ${upsert}`,
    add: `${insert} ON DUPLICATE KEY UPDATE ${['string_value', 'flags', 'cas_value', 'expiry'].map(ifExpired).join(', ')}`,
    replace: `UPDATE ${t} SET string_value = ?, flags = ?, cas_value = CAST(? AS UNSIGNED), expiry = ${expiry} WHERE mkey = ? AND ${LIVE_SQL}`,
    cas: `UPDATE ${t} SET string_value = ?, flags = ?, cas_value = CAST(? AS UNSIGNED), expiry = ${expiry} WHERE mkey = ? AND ${LIVE_SQL} AND cas_value = CAST(? AS UNSIGNED)`,
    append: `UPDATE ${t} SET string_value = CONCAT(string_value, ?), cas_value = CAST(? AS UNSIGNED) WHERE mkey = ? AND ${LIVE_SQL} AND LENGTH(string_value) + IF(flags = 0, 0, 4) <= ? AND CAST(? AS UNSIGNED) IN (0, cas_value)`,
    prepend: `UPDATE ${t} SET string_value = CONCAT(?, string_value), cas_value = CAST(? AS UNSIGNED) WHERE mkey = ? AND ${LIVE_SQL} AND LENGTH(string_value) + IF(flags = 0, 0, 4) <= ? AND CAST(? AS UNSIGNED) IN (0, cas_value)`,
    delete: `DELETE FROM ${t} WHERE mkey = ? AND ${LIVE_SQL}`,
    deleteCas: `DELETE FROM ${t} WHERE mkey = ? AND ${LIVE_SQL} AND cas_value = CAST(? AS UNSIGNED)`,
    touch: `UPDATE ${t} SET expiry = ${expiry} WHERE mkey = ? AND ${LIVE_SQL}`,
    /** gat: the rows were read and locked in the same transaction */
    touchMany: (n: number) => `UPDATE ${t} SET expiry = ${expiry} WHERE mkey IN (${placeholders(n)})`,
    lockValue: `SELECT string_value, cas_value FROM ${t} WHERE mkey = ? AND ${LIVE_SQL} FOR UPDATE`,
    /** incr/decr: the row was locked by lockValue in the same transaction */
    writeCounter: `UPDATE ${t} SET string_value = ?, cas_value = CAST(? AS UNSIGNED) WHERE mkey = ?`,
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

const BATCH_SIZES = [1, 4, 16, 64, 256];

/**
 * Splits keys into IN-lists of a few fixed sizes, padding the last one by repeating a key:
 * every distinct list length is a prepared statement kept on the server, whose number is
 * limited server-wide (max_prepared_stmt_count).
 */
/** Row counts of merged sets, so only a few statements are ever prepared. */
const SET_BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64];

function keyBatches(keys: Buffer[]): Buffer[][] {
  const largest = BATCH_SIZES[BATCH_SIZES.length - 1]!;
  const batches: Buffer[][] = [];
  for (let i = 0; i < keys.length; i += largest) {
    const batch = keys.slice(i, i + largest);
    const size = BATCH_SIZES.find((n) => n >= batch.length)!;
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

function toItems(rows: ItemRow[]): Map<string, Item> {
  const items = new Map<string, Item>();
  for (const row of rows) {
    items.set(mapKey(row.mkey), {
      key: row.mkey,
      value: row.string_value,
      flags: Number(row.flags),
      cas: BigInt(row.cas_value),
    });
  }
  return items;
}
