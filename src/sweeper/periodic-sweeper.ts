import type { Logger } from 'winston';
import type { DatabasePool } from '../store/pool.js';
import { ExpirySweeper, type SweepSettings } from './expiry-sweeper.js';

export interface PeriodicSweeperOptions extends SweepSettings {
  table: string;
  /** seconds between the end of one pass and the start of the next */
  intervalSeconds: number;
}

/** What the sweeper of this gateway has done since it started (for metrics). */
export interface SweeperCounts {
  /** passes that ran (a pass another gateway's lease kept from running is not one) */
  passes: number;
  rowsDeleted: number;
  /** unix seconds when the last pass ended, 0 before the first */
  lastPassEnd: number;
}

export interface PeriodicSweeper {
  readonly counts: SweeperCounts;
  /** Ends the pass in flight after its current batch and gives the lease up. Once. */
  stop(): Promise<void>;
}

/**
 * The sweeper inside `memgate serve`: a pass every interval. The gateway that wins a pass
 * keeps the lease for one interval more, so a fleet of gateways sweeps about once per
 * interval in all, by whichever holds the lease, and another takes over within an interval
 * when that one stops or dies. A failed pass is logged and tried again next interval.
 */
export function startPeriodicSweeper(pool: DatabasePool, options: PeriodicSweeperOptions, logger: Logger): PeriodicSweeper {
  const sweeper = new ExpirySweeper(pool, options.table, logger);
  const controller = new AbortController();
  const intervalMs = options.intervalSeconds * 1000;
  // The holder's next pass is due after one interval; a little slack lets it renew first.
  const holdSeconds = options.intervalSeconds + Math.max(5, Math.ceil(options.intervalSeconds / 10));
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let failing = false;
  const counts: SweeperCounts = { passes: 0, rowsDeleted: 0, lastPassEnd: 0 };

  const schedule = () => {
    timer = setTimeout(() => {
      running = runPass().finally(() => {
        running = null;
        if (!controller.signal.aborted) schedule();
      });
    }, intervalMs);
    timer.unref();
  };

  const runPass = async () => {
    try {
      const outcome = await sweeper.pass({ ...options, holdSeconds, signal: controller.signal });
      if (outcome.kind === 'swept') {
        counts.passes++;
        counts.rowsDeleted += outcome.result.rows;
        counts.lastPassEnd = Date.now() / 1000;
      }
      if (failing) logger.info('sweeper working again', { table: options.table });
      failing = false;
    } catch (error) {
      // Once per run of failures at warn: a database outage is already reported by the pool.
      logger.log(failing ? 'debug' : 'warn', 'sweep pass failed; will try again', {
        table: options.table, error: (error as Error).message,
      });
      failing = true;
    }
  };

  logger.info('expiry sweeper on', { table: options.table, intervalSeconds: options.intervalSeconds });
  schedule();
  let stopped: Promise<void> | null = null;
  return {
    counts,
    stop() {
      stopped ??= (async () => {
        controller.abort();
        if (timer) clearTimeout(timer);
        await running;
        await sweeper.releaseLease().catch(() => undefined);
      })();
      return stopped;
    },
  };
}
