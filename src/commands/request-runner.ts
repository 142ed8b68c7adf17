import type { Request } from '../model/request.js';
import type { RequestRunner } from '../model/request-runner.js';
import type { Response } from '../model/response.js';
import { DatabaseQueryError, DatabaseUnavailableError } from '../store/errors.js';
import type { CommandContext, RunLimits } from './handler.js';
import { executeCommand, handlerFor } from './index.js';
import { dataWriteLock, executeDataWrite, executeLockRequest, isLockRequest } from './session-lock.js';

/**
 * Runs one client connection's requests through the handlers. A pipelined run of requests
 * whose handler has a batch executor (plain gets, plain sets) is answered by one store call,
 * within `limits`. Requests about session lock keys run alone, through session-lock.ts, and
 * the locks the connection still holds are released when it closes.
 */
export function requestRunner(ctx: CommandContext, limits: RunLimits): RequestRunner {
  const lockService = ctx.sessionLocks;
  /** session data writes that must find their lock free, decided in runLength for run */
  const dataLocks = new WeakMap<Request, Buffer>();
  /** whether a request runs alone, through session-lock.ts */
  const aboutSessions = (request: Request, next: Request | undefined): boolean => {
    if (!lockService) return false;
    if (isLockRequest(request, lockService)) return true;
    const lock = dataWriteLock(request, next, ctx, lockService);
    if (lock) dataLocks.set(request, lock);
    return lock !== null;
  };
  let running: Promise<unknown> = Promise.resolve();
  return {
    runLength(peek) {
      const first = peek(0)!;
      if (aboutSessions(first, peek(1))) return 1;
      const batch = handlerFor(first).batch;
      if (!batch?.joins(first)) return 1;
      const run = batch.startRun(first, limits);
      let length = 1;
      for (
        let next = peek(1);
        next?.kind === first.kind && batch.joins(next) && !aboutSessions(next, peek(length + 1)) && run.add(next);
        next = peek(length)
      ) length++;
      return length;
    },
    run(requests) {
      const done = execute(requests);
      running = done;
      return done;
    },
    close() {
      // A lock taken by a request still running must go too: release after it ends.
      void running.then(() => {
        if (ctx.client.locks > 0) lockService?.locks.connectionClosed(ctx.client.id);
      });
    },
  };

  async function execute(requests: Request[]): Promise<Response[]> {
    const first = requests[0]!;
    try {
      if (lockService) {
        const lock = dataLocks.get(first);
        if (lock && first.kind === 'store') return [await executeDataWrite(first, lock, ctx, lockService)];
        if (isLockRequest(first, lockService)) return [await executeLockRequest(first, ctx, lockService)];
      }
      if (requests.length === 1) return [await executeCommand(first, ctx)];
      return await handlerFor(first).batch!.execute(requests, ctx);
    } catch (error) {
      const response = failure(first, error, ctx);
      return requests.map(() => response);
    }
  }
}

/** A failed command answers SERVER_ERROR; the message of a database failure tells the client why. */
function failure(request: Request, error: unknown, { logger }: CommandContext): Response {
  if (error instanceof DatabaseUnavailableError || error instanceof DatabaseQueryError) {
    // Logged once per outage by the pool and per failure by the store; not per reply.
    return { kind: 'serverError', message: oneLine(error.message) };
  }
  logger.error('command failed', { kind: request.kind, error: error instanceof Error ? error.stack : String(error) });
  return { kind: 'serverError', message: 'internal error' };
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
