import { readFile } from 'node:fs/promises';
import type { Logger } from 'winston';
import { errorCode } from './mysql-errors.js';
import type { DatabasePool } from './pool.js';

export type Engine = 'innodb' | 'ndb';

/**
 * Table names go into SQL text, so only plain identifiers are accepted; at most 58 characters,
 * so that the session lock table beside it (lockTableOf) stays within MySQL's 64.
 */
export const TABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,57}$/;

/** The session lock table of an item table (sql/innodb.sql, `kv_locks`). */
export const lockTableOf = (table: string): string => `${table}_locks`;

const sqlFile = (engine: Engine) => new URL(`../../../sql/${engine}.sql`, import.meta.url);

/** The DDL for the engine, with the configured table name in place of `kv` (and `kv_locks`). */
export async function schemaStatements(engine: Engine, table: string): Promise<string[]> {
  if (!TABLE_NAME_PATTERN.test(table)) throw new Error(`db.table: not a valid table name: ${table}`);
  const text = await readFile(sqlFile(engine), 'utf8');
  return text
    .replace(/^--.*$/gm, '')
    .replaceAll('`kv', `\`${table}`)
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

/** The helper tables every item table needs beside it. */
export const HELPER_TABLES = ['memgate_sequence', 'memgate_flush', 'memgate_lease', 'memgate_gateways'] as const;

/** Which of the item table and its helper tables are not in the database yet. */
export async function missingTables(pool: DatabasePool, table: string): Promise<string[]> {
  const wanted = [table, lockTableOf(table), ...HELPER_TABLES];
  return pool.withConnection(async (connection) => {
    const [rows] = await connection.execute(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN (${wanted.map(() => '?').join(', ')})`,
      wanted,
    );
    const present = new Set((rows as Array<{ name: string }>).map((row) => row.name));
    return wanted.filter((name) => !present.has(name));
  });
}

/** Creates the item table and its helper tables; with onlyIfMissing it first checks they all exist. */
export async function applySchema(
  pool: DatabasePool,
  options: { engine: Engine; table: string; onlyIfMissing: boolean },
  logger: Logger,
): Promise<boolean> {
  if (options.onlyIfMissing && (await missingTables(pool, options.table)).length === 0) {
    await addMissingItemColumns(pool, options.table, logger);
    return false;
  }
  const statements = await schemaStatements(options.engine, options.table);
  await pool.withConnection(async (connection) => {
    for (const statement of statements) await connection.query(statement);
  });
  // CREATE TABLE IF NOT EXISTS leaves an older item table as it was.
  await addMissingItemColumns(pool, options.table, logger);
  logger.info('schema applied', { table: options.table, engine: options.engine });
  return true;
}

/** Item table columns added after the first release, as sql/*.sql defines them. */
const ADDED_ITEM_COLUMNS: ReadonlyArray<[name: string, definition: string]> = [
  ['item_state', 'TINYINT UNSIGNED NOT NULL DEFAULT 0'],
  ['accessed_at', 'INT UNSIGNED NOT NULL DEFAULT 0'],
];

/**
 * Upgrades an item table made by an older memgate. Gateways starting together may all try:
 * the ALTER that loses the race fails with a duplicate column name, meaning it is done.
 */
export async function addMissingItemColumns(pool: DatabasePool, table: string, logger: Logger): Promise<void> {
  await pool.withConnection(async (connection) => {
    const [rows] = await connection.execute(
      'SELECT COLUMN_NAME AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?',
      [table],
    );
    const present = new Set((rows as Array<{ name: string }>).map((row) => row.name.toLowerCase()));
    for (const [name, definition] of ADDED_ITEM_COLUMNS) {
      if (present.has(name)) continue;
      try {
        await connection.query(`ALTER TABLE \`${table}\` ADD COLUMN ${name} ${definition}`);
        logger.info('item table upgraded', { table, column: name });
      } catch (error) {
        if (errorCode(error) !== 'ER_DUP_FIELDNAME') throw error;
      }
    }
  });
}
