import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'winston';
import { resolveDatabaseUrl } from '../app.js';
import type { GatewayConfig } from '../config/schema.js';
import { Releasers } from '../lifecycle/releasers.js';
import { DRAIN_MESSAGE, WORKER_DB_URL_ENV, WORKER_ID_ENV } from './worker.js';

/**
 * What runs in the primary beside the workers (primary-services.ts): started before the first
 * worker, stopped after the last one, given the database URL the workers use.
 */
export interface PrimaryServices {
  start?(logger: Logger, databaseUrl: string): Promise<{ stop(): Promise<void> }>;
}

/** A worker that dies sooner than this after it started waits before it is replaced. */
const STEADY_MS = 5000;
const RESTART_DELAY_MS = 1000;
/** How long workers may drain past listen.shutdownGraceMs before they are killed. */
const DRAIN_SLACK_MS = 10_000;

export interface Primary {
  /** Resolves with the exit code once every worker has stopped for good. */
  readonly done: Promise<number>;
  /** Drains every worker (each finishes its in-flight commands), then releases the rest. Once. */
  stop(): Promise<void>;
}

/**
 * The primary of `serve --workers N`: starts the embedded MariaDB once (when db.url is empty),
 * runs N workers that share the listening port through node:cluster, replaces a worker that
 * dies, and drains them all on stop(). A worker that fails before it ever listened (a bad
 * setting, a refused database login) stops everything with its exit code: replacing it would
 * fail the same way.
 */
export async function startPrimary(config: GatewayConfig, logger: Logger, services: PrimaryServices = {}): Promise<Primary> {
  const releasers = new Releasers();
  const databaseUrl = await resolveDatabaseUrl(config, logger, releasers);
  const count = config.workers.count;
  const slots = new Map<Worker, { id: number; startedAt: number; listening: boolean }>();
  let stopping: Promise<void> | null = null;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));
  let exitCode = 0;

  const fork = (id: number) => {
    const worker = cluster.fork({ [WORKER_ID_ENV]: String(id), [WORKER_DB_URL_ENV]: databaseUrl });
    slots.set(worker, { id, startedAt: Date.now(), listening: false });
  };

  const everyoneStopped = new Promise<void>((resolve) => {
    cluster.on('listening', (worker) => {
      const slot = slots.get(worker);
      if (!slot || slot.listening) return;
      slot.listening = true;
      logger.info('worker serving', { worker: slot.id, pid: worker.process.pid });
    });
    cluster.on('exit', (worker, code, signal) => {
      const slot = slots.get(worker);
      slots.delete(worker);
      if (!slot) return;
      if (!stopping && !slot.listening) {
        logger.error('worker failed to start; stopping', { worker: slot.id, code, signal });
        exitCode = code || 1;
        void stop();
      } else if (!stopping) {
        const early = Date.now() - slot.startedAt < STEADY_MS;
        logger.warn('worker died; starting another', { worker: slot.id, pid: worker.process.pid, code, signal });
        setTimeout(() => {
          if (!stopping) fork(slot.id);
        }, early ? RESTART_DELAY_MS : 0);
      }
      if (stopping && slots.size === 0) resolve();
    });
  });

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      logger.info('draining workers', { workers: slots.size });
      const killer = setTimeout(() => {
        for (const worker of slots.keys()) worker.process.kill('SIGKILL');
      }, config.listen.shutdownGraceMs + DRAIN_SLACK_MS);
      for (const worker of slots.keys()) if (worker.isConnected()) worker.send(DRAIN_MESSAGE);
      if (slots.size > 0) await everyoneStopped;
      clearTimeout(killer);
      await releasers.release();
      finish(exitCode);
    })();
    return stopping;
  };

  try {
    if (services.start) {
      const running = await services.start(logger, databaseUrl);
      releasers.push('primary services', () => running.stop());
    }
    for (let id = 1; id <= count; id++) fork(id);
    logger.info(`primary running ${count} workers`, { workers: count, pid: process.pid });
  } catch (error) {
    await releasers.release().catch(() => undefined);
    throw error;
  }
  return { done, stop };
}
