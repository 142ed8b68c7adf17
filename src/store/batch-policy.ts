// What one batch may hold, in one place. Batches are made at three levels, and each limit
// below says which level it bounds and why:
//   1. a connection's pipelined run of plain gets or plain sets, answered by one store call;
//   2. CoalescingStore's merge of what concurrent connections ask for, one statement each;
//   3. the SQL statement itself, whose shape (IN-list length, VALUES rows) is one of a few
//      fixed sizes so that few prepared statements are kept on the server.

/**
 * Level 3: IN-list lengths of a read. A longer list is split; a shorter one is padded to the
 * next size by repeating a key. Every distinct length is a prepared statement kept on the
 * server, whose number is limited server-wide (max_prepared_stmt_count).
 */
export const READ_KEY_COUNTS = [1, 4, 16, 64, 256] as const;

/** Level 3: VALUES rows of a merged set; more rows become several statements in one transaction. */
export const SET_ROW_COUNTS = [1, 2, 4, 8, 16, 32, 64] as const;

/**
 * Level 2: most rows in one merged write (four statements of 64). The byte limit alone would
 * let tiny values pack thousands of rows, so each set weighs at least 1/256 of it.
 */
export const MAX_ROWS_PER_MERGED_WRITE = 256;

/**
 * Level 1: a connection's pipelined run. Enough keys to turn a pipelined multi-get into a few
 * queries, few enough that the values held at once stay bounded; the same for sets, whose
 * value bytes are also capped (never above the merged write's byte limit, or the run could not
 * join a merged write whole).
 */
const RUN_MAX_GET_KEYS = 128;
const RUN_MAX_SETS = 64;
const RUN_MAX_SET_BYTES = 256 * 1024;

/** The configurable part: coalesce.maxBatchKeys and coalesce.maxBatchBytes. */
export interface BatchSettings {
  maxBatchKeys: number;
  maxBatchBytes: number;
}

export interface BatchPolicy {
  /** level 1 */
  run: { maxGetKeys: number; maxSets: number; maxSetBytes: number };
  /** level 2 */
  merge: { maxReadKeys: number; maxWriteBytes: number; maxWriteRows: number };
}

export function batchPolicy(settings: BatchSettings): BatchPolicy {
  return {
    run: {
      maxGetKeys: RUN_MAX_GET_KEYS,
      maxSets: RUN_MAX_SETS,
      maxSetBytes: Math.min(RUN_MAX_SET_BYTES, settings.maxBatchBytes),
    },
    merge: {
      maxReadKeys: settings.maxBatchKeys,
      maxWriteBytes: settings.maxBatchBytes,
      maxWriteRows: MAX_ROWS_PER_MERGED_WRITE,
    },
  };
}

/** The statement size for n items: the smallest of `sizes` that holds them (n ≤ the largest). */
export function statementSize(sizes: readonly number[], n: number): number {
  return sizes.find((size) => size >= n)!;
}
