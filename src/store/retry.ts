import type { Logger } from 'winston';
import { ConcurrentChangeError, DatabaseQueryError, DatabaseUnavailableError } from './errors.js';
import { classifyMysqlError, errorCode } from './mysql-errors.js';
import type { DatabasePool } from './pool.js';

/**
 * 'idempotent': running the work twice leaves the same result as once (get, set, delete,
 * touch, ...), so it may run again even when a connection broke after it was sent;
 * 'once': it could take effect twice (incr, decr, append, prepend, cas, add), so it runs again
 * only when it certainly did not take effect.
 */
export type RetryPolicy = 'idempotent' | 'once';

const DEFAULT_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 5;
const BACKOFF_MAX_MS = 100;

export const UNKNOWN_OUTCOME_MESSAGE =
  'outcome unknown: the database connection was lost after the command was sent; not retried, since it may have taken effect';

/** What a failed attempt means for running it again. */
export type FailureKind =
  /** the server rolled it back: run again */
  | 'rolled_back'
  /** it never took effect (no connection, node not ready): run again on a healthy node */
  | 'not_applied'
  /** it may have taken effect */
  | 'unknown'
  /** an error that running again would not cure */
  | 'final';

export function failureKind(error: unknown): FailureKind {
  if (error instanceof ConcurrentChangeError) return 'rolled_back';
  if (error instanceof DatabaseUnavailableError) return error.maybeApplied ? 'unknown' : 'not_applied';
  return classifyMysqlError(error) === 'rolled_back' ? 'rolled_back' : 'final';
}

/**
 * Runs one attempt after another under the retry policy, at most maxAttempts, with a short
 * jittered backoff so that conflicting gateways do not collide again in step. While no node is
 * healthy, failures are answered at once rather than retried. Failures leave as
 * DatabaseUnavailableError or DatabaseQueryError.
 */
export async function withRetry<T>(
  pool: DatabasePool,
  logger: Logger,
  retry: RetryPolicy,
  attempt: () => Promise<T>,
  maxAttempts = DEFAULT_ATTEMPTS,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const kind = failureKind(error);
      const again = n < maxAttempts && (kind === 'rolled_back'
        || (kind === 'not_applied' && !pool.down)
        || (kind === 'unknown' && retry === 'idempotent' && !pool.down));
      if (again) {
        pool.counters.retries++;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** n)));
        continue;
      }
      if (kind === 'unknown' && retry === 'once') {
        pool.counters.unknownOutcomes++;
        logger.warn('command outcome unknown; not retried', { error: (error as Error).message });
        throw new DatabaseUnavailableError(UNKNOWN_OUTCOME_MESSAGE, { cause: error, maybeApplied: true });
      }
      if (error instanceof DatabaseUnavailableError) throw error;
      if (kind === 'rolled_back') throw new DatabaseQueryError('database busy: too many conflicting writes', errorCode(error), { cause: error });
      const code = errorCode(error);
      logger.error('database statement failed', { code, error: (error as Error).message });
      throw new DatabaseQueryError(`database error${code ? ` ${code}` : ''}`, code, { cause: error });
    }
  }
}
