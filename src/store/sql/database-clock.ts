import type { Connection } from '../pool.js';
import { rowsOf } from './results.js';

/** The database clock in unix seconds: the one clock by which every gateway judges expiry. */
export async function databaseNow(c: Connection): Promise<number> {
  return Number(rowsOf<{ now: number | string }>(await c.execute('SELECT UNIX_TIMESTAMP() AS now'))[0]!.now);
}
