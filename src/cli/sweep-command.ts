import type { Logger } from 'winston';
import type { GatewayConfig } from '../config/schema.js';
import { installSignalHandlers } from '../lifecycle/signals.js';
import { DatabaseQueryError, DatabaseUnavailableError } from '../store/errors.js';
import { applySchema, missingTables, type Engine } from '../store/schema.js';
import { ExpirySweeper, sweepSettings, type PassOutcome, type SweepProgress } from '../sweeper/expiry-sweeper.js';
import { withDatabase } from './with-database.js';

const PROGRESS_EVERY_MS = 1000;

/**
 * `memgate sweep`: one pass over the table, then exit. 0 with a one-line summary on stdout
 * (also when another sweeper holds the lease); 1 with the reason on stderr when the
 * database fails. SIGTERM/SIGINT end the pass after its current batch.
 */
export async function runSweep(config: GatewayConfig, logger: Logger, dryRun: boolean): Promise<number> {
  const table = config.db.table;
  const controller = new AbortController();
  let finished: Promise<unknown> = Promise.resolve();
  const uninstall = installSignalHandlers(async () => {
    controller.abort();
    await finished;
  }, logger);
  try {
    const work = withDatabase(config, logger, config.db.statementTimeoutMs, async (pool) => {
      const missing = await missingTables(pool, table);
      if (missing.includes(table)) {
        process.stderr.write(`memgate sweep: table ${table} does not exist (memgate schema creates it)\n`);
        return 1;
      }
      // Deployments from before the sweeper lack its lease table.
      if (missing.length > 0) await applySchema(pool, { engine: config.db.engine as Engine, table, onlyIfMissing: true }, logger);
      const progress = process.stderr.isTTY ? new ProgressLine(process.stderr, dryRun) : null;
      let outcome: PassOutcome;
      try {
        outcome = await new ExpirySweeper(pool, table, logger).pass({
          ...sweepSettings(config), dryRun, signal: controller.signal, onProgress: (p) => progress?.update(p),
        });
      } finally {
        progress?.clear();
      }
      process.stdout.write(`${summary(outcome)}\n`);
      return 0;
    });
    finished = work.catch(() => undefined);
    return await work;
  } catch (error) {
    if (error instanceof DatabaseUnavailableError || error instanceof DatabaseQueryError) {
      const cause = error instanceof DatabaseQueryError && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      process.stderr.write(`memgate sweep: ${error.message}${cause}\n`);
      return 1;
    }
    throw error;
  } finally {
    uninstall();
  }
}

/** "deleted N rows in B batches in S s (R rows/s)", and why the pass ended when it was cut short. */
export function summary(outcome: PassOutcome): string {
  if (outcome.kind === 'busy') {
    return `skipped: another sweeper holds the lease (${outcome.held.holder}, ${outcome.held.secondsLeft} s left)`;
  }
  const r = outcome.result;
  const seconds = r.elapsedMs / 1000;
  const line = `${r.dryRun ? 'would delete' : 'deleted'} ${r.rows} rows in ${r.batches} batches in ${seconds.toFixed(1)} s (${rate(r)} rows/s)`;
  const why = {
    done: '',
    budget: '; stopped at the time budget, the rest is for the next pass',
    stopped: '; stopped by a signal',
    lease_lost: '; stopped: another sweeper took the lease over',
  }[r.end];
  return `${line}${r.dryRun ? '; dry run, nothing deleted' : ''}${why}`;
}

function rate(p: SweepProgress): number {
  return p.elapsedMs > 0 ? Math.round(p.rows / (p.elapsedMs / 1000)) : 0;
}

/** One line on the terminal, rewritten at most once a second, for sweeps that take a while. */
class ProgressLine {
  private shownAt = 0;
  private shown = false;

  constructor(private readonly out: NodeJS.WriteStream, private readonly dryRun: boolean) {}

  update(p: SweepProgress): void {
    if (p.elapsedMs < PROGRESS_EVERY_MS || p.elapsedMs - this.shownAt < PROGRESS_EVERY_MS) return;
    this.shownAt = p.elapsedMs;
    this.shown = true;
    const verb = this.dryRun ? 'counted' : 'deleted';
    this.out.write(`\r\x1b[K${verb} ${p.rows} rows in ${p.batches} batches, ${(p.elapsedMs / 1000).toFixed(0)} s (${rate(p)} rows/s)`);
  }

  clear(): void {
    if (this.shown) this.out.write('\r\x1b[K');
  }
}
