import type { Connection } from '../pool.js';

/** fn's statements as one transaction: committed when fn resolves, rolled back when it throws. */
export async function transaction<T>(c: Connection, fn: () => Promise<T>): Promise<T> {
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
