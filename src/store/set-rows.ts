import { setBatches } from './batch-padding.js';
import type { Connection } from './pool.js';
import type { ItemValues } from './sql/insert-item.js';
import { transaction } from './sql/transaction.js';

/** Runs one multi-row upsert (sql/set-many.ts) of rows padded to a size from SET_ROW_COUNTS. */
export type SetManyStatement = (c: Connection, rows: ItemValues[]) => Promise<unknown>;

/**
 * Plain sets as multi-row upserts. Rows are sorted by key so that concurrent writes lock rows
 * in one order; rows of one key keep their order, so the last one wins. Several statements run
 * in one transaction, which keeps the sets all-or-nothing as one statement would.
 */
export async function writeSetRows(c: Connection, rows: ItemValues[], setMany: SetManyStatement): Promise<void> {
  const order = rows.map((_, i) => i).sort((x, y) => Buffer.compare(rows[x]!.key, rows[y]!.key) || x - y);
  const statements = setBatches(order, rows).map((indexes) => indexes.map((i) => rows[i]!));
  if (statements.length === 1) {
    await setMany(c, statements[0]!);
    return;
  }
  await transaction(c, async () => {
    for (const statement of statements) await setMany(c, statement);
  });
}
