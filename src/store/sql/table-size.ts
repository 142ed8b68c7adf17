import type { Connection } from '../pool.js';
import { rowsOf } from './results.js';

export interface TableSize {
  rows: number;
  bytes: number;
}

/**
 * The server's own estimate of a table's rows and data bytes, from information_schema: no
 * scan of the table. InnoDB samples its statistics, so the figures may be off by tens of
 * percent and lag writes until its next statistics update (MySQL 8 also caches them for
 * information_schema_stats_expiry seconds).
 */
export async function tableSize(c: Connection, table: string): Promise<TableSize> {
  const rows = rowsOf<{ r: number | string | null; b: number | string | null }>(await c.execute(
    'SELECT TABLE_ROWS AS r, DATA_LENGTH AS b FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
    [table],
  ));
  const row = rows[0];
  return { rows: Number(row?.r ?? 0), bytes: Number(row?.b ?? 0) };
}

/** Fails unless the database answers and every table is there (a readiness probe); reads no row. */
export async function probeTables(c: Connection, tables: readonly string[]): Promise<void> {
  await c.query(tables.map((table) => `SELECT 1 FROM \`${table}\` WHERE 0`).join(' UNION ALL '));
}
