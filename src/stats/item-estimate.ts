import type { DatabasePool } from '../store/pool.js';
import { tableSize, type TableSize } from '../store/sql/table-size.js';

/** How old the estimate `stats` reports may be before a `stats` asks for a fresh one. */
export const ITEM_ESTIMATE_MAX_AGE_MS = 10_000;

/**
 * curr_items and bytes of `stats`: the database's estimate of the item table's rows and data
 * bytes (store/sql/table-size.ts), never a count over the table. A `stats` answers with the
 * last estimate and, when that is older than ITEM_ESTIMATE_MAX_AGE_MS, fetches the next in
 * the background; only the first `stats` waits for one. Expired rows the sweeper has not yet
 * deleted are counted.
 */
export class ItemEstimate {
  private last: TableSize = { rows: 0, bytes: 0 };
  private readAt = 0;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly pool: DatabasePool,
    private readonly table: string,
    private readonly maxAgeMs = ITEM_ESTIMATE_MAX_AGE_MS,
  ) {}

  async current(): Promise<TableSize> {
    if (Date.now() - this.readAt >= this.maxAgeMs) {
      const refresh = this.refresh();
      if (this.readAt === 0) await refresh;
    }
    return this.last;
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.pool.withConnection((c) => tableSize(c, this.table), 'read')
      .then((size) => {
        this.last = size;
        this.readAt = Date.now();
      }, () => {
        // The database is down: the last estimate stands; the next `stats` tries again.
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }
}
