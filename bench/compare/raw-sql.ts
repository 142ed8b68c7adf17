// The baseline: an application talking to MySQL directly with mysql2, one prepared statement
// per operation, the same statements memgate needs for a single-key get and a plain set.
import mysql from 'mysql2/promise';
import { schemaStatements } from '../../src/store/schema.js';

const LIVE = '(expiry = 0 OR expiry > UNIX_TIMESTAMP())';

/** The statements of the raw-SQL target, by table; printed into the JSON report. */
export function rawStatements(table: string): { get: string; set: string } {
  const t = `\`${table}\``;
  return {
    get: `SELECT mkey, string_value, flags, cas_value FROM ${t} WHERE mkey = ? AND ${LIVE}`,
    set:
      `INSERT INTO ${t} (mkey, string_value, flags, cas_value, expiry) VALUES (?, ?, ?, ?, ?) ` +
      'ON DUPLICATE KEY UPDATE string_value = VALUES(string_value), flags = VALUES(flags), ' +
      'cas_value = VALUES(cas_value), expiry = VALUES(expiry)',
  };
}

/** Creates the table (memgate's own DDL, so rows look alike) and loads every key with a value. */
export async function prepareRawTable(url: string, table: string, keys: readonly string[], value: Buffer): Promise<void> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    for (const statement of await schemaStatements('innodb', table)) await connection.query(statement);
    await connection.query(`TRUNCATE TABLE \`${table}\``);
    const batch = 500;
    for (let i = 0; i < keys.length; i += batch) {
      const slice = keys.slice(i, i + batch);
      const rows = slice.map((key, j) => [key, value, 0, i + j + 1, 0]);
      await connection.query(`INSERT INTO \`${table}\` (mkey, string_value, flags, cas_value, expiry) VALUES ?`, [rows]);
    }
  } finally {
    await connection.end();
  }
}
