// Design D's data writes: memgate's coalescing of plain sets (its Batcher, row padding and
// statement sizes), so the page views of concurrent clients share one durable commit. What
// arrives while a write runs joins the next one; at low load a write runs alone at once.
import { MAX_ROWS_PER_MERGED_WRITE } from '../../src/store/batch-policy.js';
import { Batcher } from '../../src/store/batcher.js';
import { writeSetRows, type SetManyStatement } from '../../src/store/set-rows.js';
import type { ItemValues } from '../../src/store/sql/insert-item.js';
import type { SqlSession } from '../../src/store/sql-session.js';

export class GroupWriter {
  private readonly free: SqlSession[];
  private readonly batcher: Batcher<ItemValues, void>;
  /** merged writes run, and the rows they held */
  readonly counts = { writes: 0, rows: 0 };

  /** sessions: one per write in flight (memgate's coalesce.maxWritesInFlight) */
  constructor(sessions: readonly SqlSession[], setMany: SetManyStatement) {
    this.free = [...sessions];
    this.batcher = new Batcher((rows) => this.run(rows, setMany), {
      maxInFlight: sessions.length,
      maxWeight: MAX_ROWS_PER_MERGED_WRITE,
    });
  }

  /** Resolves once the row is committed. */
  write(row: ItemValues): Promise<void> {
    return this.batcher.submit(row, 1);
  }

  private async run(rows: ItemValues[], setMany: SetManyStatement): Promise<void[]> {
    this.counts.writes++;
    this.counts.rows += rows.length;
    const session = this.free.pop()!;
    try {
      await writeSetRows(session, rows, setMany);
    } finally {
      this.free.push(session);
    }
    return rows.map(() => undefined);
  }
}
