import { readFile } from 'node:fs/promises';
import type { Logger } from 'winston';
import type { DatabasePool } from './pool.js';

export type Engine = 'innodb' | 'ndb';

/** Table names go into SQL text, so only plain identifiers are accepted. */
export const TABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const sqlFile = (engine: Engine) => new URL(`../../../sql/${engine}.sql`, import.meta.url);

/** The DDL for the engine, with the configured table name in place of `kv`. */
export async function schemaStatements(engine: Engine, table: string): Promise<string[]> {
  if (!TABLE_NAME_PATTERN.test(table)) throw new Error(`db.table: not a valid table name: ${table}`);
  const text = await readFile(sqlFile(engine), 'utf8');
  return text
    .replace(/^--.*$/gm, '')
    .replaceAll('`kv`', `\`${table}\``)
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

/** The helper tables every item table needs beside it. */
export const HELPER_TABLES = ['memgate_sequence', 'memgate_flush', 'memgate_lease'] as const;

/** Which of the item table and its helper tables are not in the database yet. */
export async function missingTables(pool: DatabasePool, table: string): Promise<string[]> {
  const wanted = [table, ...HELPER_TABLES];
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
  if (options.onlyIfMissing && (await missingTables(pool, options.table)).length === 0) return false;
  const statements = await schemaStatements(options.engine, options.table);
  await pool.withConnection(async (connection) => {
    for (const statement of statements) await connection.query(statement);
  });
  logger.info('schema applied', { table: options.table, engine: options.engine });
  return true;
}
