import { readFile } from 'node:fs/promises';
import type { DatabasePool } from '../store/pool.js';

const SESSIONS_SQL = new URL('../../../sql/sessions.sql', import.meta.url);

/**
 * sql/sessions.sql for the table: as its header says, every "`kv" becomes "`<table>", so the
 * views are named <table>_php_sessions and so on. Its comment lines (which hold example
 * queries) are left out.
 */
export async function sessionViewStatements(table: string): Promise<string[]> {
  const text = (await readFile(SESSIONS_SQL, 'utf8')).replaceAll('`kv', `\`${table}`);
  const code = text.split('\n').filter((line) => !line.startsWith('--')).join('\n');
  return code.split(/;\s*\n/).map((statement) => statement.trim()).filter(Boolean);
}

/** `memgate schema --sessions`: creates or replaces the views; returns their names. */
export async function applySessionViews(pool: DatabasePool, table: string): Promise<string[]> {
  const statements = await sessionViewStatements(table);
  await pool.withConnection(async (connection) => {
    for (const statement of statements) await connection.query(statement);
  });
  return statements.flatMap((statement) => /^CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+`([^`]+)`/i.exec(statement)?.[1] ?? []);
}
