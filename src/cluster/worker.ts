import cluster from 'node:cluster';
import type { Logger } from 'winston';
import { stopThenExit } from '../lifecycle/signals.js';

/** Set by the primary in each worker's environment: its number (1..N) and the database URL. */
export const WORKER_ID_ENV = 'MEMGATE_WORKER_ID';
/** The embedded MariaDB's URL, which only the primary knows; db.url itself when it is set. */
export const WORKER_DB_URL_ENV = 'MEMGATE_WORKER_DB_URL';
export const DRAIN_MESSAGE = 'memgate:drain';

/** Which worker this process is, for stats; none outside `serve --workers N` with N > 1. */
export interface WorkerIdentity {
  id: number;
  count: number;
}

export interface WorkerRole extends WorkerIdentity {
  databaseUrl: string;
}

/** This process's role when the primary forked it; null in the primary or a lone gateway. */
export function workerRole(env: NodeJS.ProcessEnv, count: number): WorkerRole | null {
  if (!cluster.isWorker) return null;
  const id = Number(env[WORKER_ID_ENV]);
  const databaseUrl = env[WORKER_DB_URL_ENV];
  if (!Number.isInteger(id) || id < 1 || databaseUrl === undefined) throw new Error(`worker started without ${WORKER_ID_ENV} and ${WORKER_DB_URL_ENV}`);
  return { id, count, databaseUrl };
}

/**
 * A worker drains once, when the primary asks, when the primary is gone, or on a signal of its
 * own (a terminal's Ctrl-C and systemd's KillMode=control-group signal every process of the
 * group). Draining twice is the same as once: the primary, not a second signal, decides when
 * a worker that does not finish is killed.
 */
export function followPrimary(stop: () => Promise<void>, logger: Logger): void {
  let draining = false;
  const drain = (why: string) => {
    if (draining) return;
    draining = true;
    logger.info('worker draining', { why });
    stopThenExit(stop, logger);
  };
  process.on('message', (message) => {
    if (message === DRAIN_MESSAGE) drain('asked by the primary');
  });
  process.on('disconnect', () => drain('the primary is gone'));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => drain(signal));
}
