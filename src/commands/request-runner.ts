import type { Request } from '../model/request.js';
import type { RequestRunner } from '../model/request-runner.js';
import type { Response } from '../model/response.js';
import { DatabaseQueryError, DatabaseUnavailableError } from '../store/errors.js';
import type { CommandContext, RunLimits } from './handler.js';
import { executeCommand, handlerFor } from './index.js';
import { executeLockRequest, isDataCopy, isLockRequest, skipDataCopy } from './session-lock.js';

/**
 * Runs one client connection's requests through the handlers. A pipelined run of requests
 * whose handler has a batch executor (plain gets, plain sets) is answered by one store call,
 * within `limits`. Requests about session lock keys run alone, through session-lock.ts, and
 * the locks the connection still holds are released when it closes.
 */
export function requestRunner(ctx: CommandContext, limits: RunLimits): RequestRunner {
  const lockService = ctx.sessionLocks;
  /** copies of session data, found in runLength (which sees the request behind) for run */
  const copies = new WeakSet<Request>();
  /** whether a request runs alone, through session-lock.ts */
  const aboutSessions = (request: Request, next: Request | undefined): boolean => {
    if (!lockService) return false;
    if (isLockRequest(request, lockService)) return true;
    if (!isDataCopy(request, next, ctx, lockService)) return false;
    copies.add(request);
    return true;
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
        if (copies.has(first)) return [skipDataCopy(ctx, lockService)];
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
