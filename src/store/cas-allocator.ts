import { DatabaseUnavailableError } from './errors.js';
import type { DatabasePool } from './pool.js';
import { resultHeader } from './sql/results.js';

/**
 * Hands out CAS values reserved in blocks from memgate_sequence. Blocks are reserved with one
 * atomic UPDATE, so values are unique across all gateways on the database and never repeat,
 * while only one statement in blockSize touches the shared row.
 */
export class CasAllocator {
  private next = 0n;
  private end = 0n;
  private refill: Promise<void> | null = null;

  constructor(private readonly pool: DatabasePool, private readonly blockSize = 1000) {}

  async allocate(): Promise<bigint> {
    while (this.next >= this.end) {
      this.refill ??= this.reserveBlock().finally(() => {
        this.refill = null;
      });
      await this.refill;
    }
    return this.next++;
  }

  private async reserveBlock(): Promise<void> {
    const size = BigInt(this.blockSize);
    const end = await this.pool.withConnection(async (connection) => {
      const { insertId, affectedRows } = resultHeader(await connection.execute(
        "UPDATE memgate_sequence SET next_value = LAST_INSERT_ID(next_value + ?) WHERE name = 'cas'",
        [this.blockSize],
      ));
      if (affectedRows !== 1) throw new Error("memgate_sequence has no 'cas' row; run `memgate schema`");
      return BigInt(insertId);
    }).catch((error: unknown) => {
      // A reservation whose outcome is unknown at most wastes a block; the command waiting for
      // a CAS has not run, so it must not be reported as maybe applied.
      if (error instanceof DatabaseUnavailableError && error.maybeApplied) {
        throw new DatabaseUnavailableError(error.message, { cause: error.cause, maybeApplied: false });
      }
      throw error;
    });
    this.next = end - size;
    this.end = end;
  }
}
