/** Bulk rows for sweeper tests and the benchmark: INSERT … SELECT from a generated sequence. */

/** Runs one SQL statement; a pool's or a plain connection's query both fit. */
export type Sql = (text: string, params?: unknown[]) => Promise<unknown>;

export interface SeedOptions {
  /** keys are `${prefix}${n}` for n in 0 … count-1 */
  prefix: string;
  count: number;
  /** SQL for the expiry column, in terms of n (e.g. 'UNIX_TIMESTAMP() - 1 - n MOD 3600') */
  expirySql: string;
  /** value length in bytes (default 100) */
  valueBytes?: number;
}

const CHUNK_DIGITS = 5; // 100,000 rows per statement: short transactions even for a million rows

const DIGITS = `(${Array.from({ length: 10 }, (_, d) => `SELECT ${d} AS d`).join(' UNION ALL ')})`;

/** Inserts `count` rows in statements of up to 100,000 rows, using no table but the target. */
export async function seedRows(sql: Sql, table: string, options: SeedOptions): Promise<void> {
  const digits = Math.max(1, Math.min(CHUNK_DIGITS, Math.ceil(Math.log10(options.count))));
  const chunk = 10 ** digits;
  const from = Array.from({ length: digits }, (_, i) => `${DIGITS} d${i}`).join(' CROSS JOIN ');
  const offset = Array.from({ length: digits }, (_, i) => `${10 ** i} * d${i}.d`).join(' + ');
  for (let base = 0; base < options.count; base += chunk) {
    await sql(
      `INSERT INTO \`${table}\` (mkey, string_value, flags, cas_value, expiry)
       SELECT CONCAT(?, n), REPEAT('x', ?), 0, n + 1, ${options.expirySql}
       FROM (SELECT ? + ${offset} AS n FROM ${from}) seq WHERE n < ?`,
      [options.prefix, options.valueBytes ?? 100, base, options.count],
    );
  }
}
