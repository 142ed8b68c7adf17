import { READ_KEY_COUNTS, SET_ROW_COUNTS, statementSize } from './batch-policy.js';

// How a list of keys or rows is cut and padded to the few statement sizes batch-policy.ts
// allows, so that few prepared statements are kept on the server. Padding repeats an entry
// whose second copy changes nothing.

/** Keys as IN-lists of the sizes READ_KEY_COUNTS allows, the last one padded by repeating a key. */
export function keyBatches<T>(keys: T[]): T[][] {
  const largest = READ_KEY_COUNTS[READ_KEY_COUNTS.length - 1]!;
  const batches: T[][] = [];
  for (let i = 0; i < keys.length; i += largest) {
    const batch = keys.slice(i, i + largest);
    const size = statementSize(READ_KEY_COUNTS, batch.length);
    while (batch.length < size) batch.push(batch[batch.length - 1]!);
    batches.push(batch);
  }
  return batches;
}

const MAX_SET_ROWS = SET_ROW_COUNTS[SET_ROW_COUNTS.length - 1]!;

/**
 * The rows of a merged write (indexes into `values`, in write order) as statements of the sizes
 * SET_ROW_COUNTS allows, each padded with paddingRow.
 */
export function setBatches(order: number[], values: Array<{ key: Buffer; value: Buffer }>): number[][] {
  const batches: number[][] = [];
  for (let from = 0; from < order.length; from += MAX_SET_ROWS) {
    const rows = order.slice(from, from + MAX_SET_ROWS);
    const size = statementSize(SET_ROW_COUNTS, rows.length);
    if (rows.length < size) {
      const pad = paddingRow(rows, values);
      while (rows.length < size) rows.push(pad);
    }
    batches.push(rows);
  }
  return batches;
}

/**
 * The row a merged write is padded with: writing a key's last row of the statement once more,
 * at its end, leaves the same result. The one with the smallest value, so padding a statement
 * that holds one big value does not repeat that value.
 */
export function paddingRow(rows: number[], values: Array<{ key: Buffer; value: Buffer }>): number {
  let best = rows[rows.length - 1]!;
  for (let j = 0; j < rows.length; j++) {
    const input = values[rows[j]!]!;
    const lastOfKey = j === rows.length - 1 || !values[rows[j + 1]!]!.key.equals(input.key);
    if (lastOfKey && input.value.length < values[best]!.value.length) best = rows[j]!;
  }
  return best;
}
