import type { Logger } from 'winston';
import { ConcurrentChangeError, DatabaseQueryError, DatabaseUnavailableError } from './errors.js';
import { classifyMysqlError, errorCode } from './mysql-errors.js';
import type { DatabasePool } from './pool.js';

/**
 * 'idempotent': the work may run again even after a connection broke mid-statement;
 * 'once': after such a break it is not run again, since it may already have taken effect.
 */
export type RetryPolicy = 'idempotent' | 'once';

const DEFAULT_ATTEMPTS = 4;

/**
 * Runs one attempt after another under the retry policy. Work the server rolled back
 * (deadlock, lock wait timeout, a concurrent creation) runs again; so does work that never
 * reached the database. After a connection broke mid-statement, only idempotent work runs
 * again. Failures leave as DatabaseUnavailableError or DatabaseQueryError.
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
      const unavailable = error instanceof DatabaseUnavailableError;
      const rolledBack = error instanceof ConcurrentChangeError || classifyMysqlError(error) === 'rolled_back';
      const again = n < maxAttempts && (rolledBack
        || (unavailable && !pool.down && (retry === 'idempotent' || !error.maybeApplied)));
      if (again) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * n));
        continue;
      }
      if (unavailable) throw error;
      if (rolledBack) throw new DatabaseQueryError('database busy: too many conflicting writes', errorCode(error), { cause: error });
      const code = errorCode(error);
      logger.error('database statement failed', { code, error: (error as Error).message });
      throw new DatabaseQueryError(`database error${code ? ` ${code}` : ''}`, code, { cause: error });
    }
  }
}
