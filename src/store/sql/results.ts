import type { ResultSetHeader } from 'mysql2';
import type { QueryResult } from '../sql-session.js';

// What mysql2 answers, read in one place: a write's result header, or a SELECT's rows.

/** A write's result header: affectedRows, insertId. */
export function resultHeader([header]: QueryResult): ResultSetHeader {
  return header as ResultSetHeader;
}

/**
 * The rows a write changed (or, for an upsert, 1 per insert and 2 per update). Sessions do
 * not ask for found rows, so a row left as it was does not count (sql-session.ts).
 */
export function affectedRows(result: QueryResult): number {
  return resultHeader(result).affectedRows;
}

/** A SELECT's rows, typed by the statement module that names its columns. */
export function rowsOf<Row>([rows]: QueryResult): Row[] {
  return rows as Row[];
}
