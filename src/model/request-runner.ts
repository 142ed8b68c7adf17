import type { Request } from './request.js';
import type { Response } from './response.js';

/**
 * The contract between a connection and the command layer, in the model so that neither
 * imports the other: the connection queues requests, asks how many of them run together,
 * runs them, and writes the responses in order; src/commands/request-runner.ts implements it.
 * Each connection has a runner of its own.
 */
export interface RequestRunner {
  /**
   * How many queued requests, from the first, run together (at least 1). peek(i) is the i-th
   * queued request, or undefined where the queue holds no further request.
   */
  runLength(peek: (index: number) => Request | undefined): number;
  /**
   * One response per request, in order. Failures are answered, not thrown. parsedAt: when the
   * first of them had been parsed (performance.now()), so that a command's time can include
   * its wait behind earlier pipelined ones.
   */
  run(requests: Request[], parsedAt?: number): Promise<Response[]>;
  /**
   * The client connection has closed: called once, maybe while a run is in flight; run is not
   * called after it. What the connection held (its session locks) is released.
   */
  close(): void;
}
