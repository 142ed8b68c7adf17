import { appendStatements } from './append-item.js';
import { deleteStatements } from './delete-item.js';
import { flushStatements } from './flush-all.js';
import { insertStatements } from './insert-item.js';
import { invalidateStatements } from './invalidate-item.js';
import { lockedWriteStatements } from './locked-writes.js';
import { readStatements } from './read-items.js';
import { setManyStatement } from './set-many.js';
import { touchStatements } from './touch-items.js';
import { updateStatements } from './update-item.js';

/**
 * Every statement the store runs on one item table, built once per table. Each runner takes a
 * connection and named values, sends one fixed statement text (or one of a few per list
 * length) and returns what its result means.
 */
export function itemStatements(table: string, itemSizeMax: number) {
  return {
    ...readStatements(table),
    ...insertStatements(table),
    ...setManyStatement(table),
    ...updateStatements(table),
    ...appendStatements(table, itemSizeMax),
    ...deleteStatements(table),
    ...invalidateStatements(table),
    ...touchStatements(table),
    ...lockedWriteStatements(table),
    ...flushStatements(table),
  };
}

export type ItemStatements = ReturnType<typeof itemStatements>;
