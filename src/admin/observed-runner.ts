import { performance } from 'node:perf_hooks';
import type { Request } from '../model/request.js';
import type { RequestRunner } from '../model/request-runner.js';
import type { Response } from '../model/response.js';

/**
 * Told of every run of a connection's requests once its responses are ready; seconds since
 * the first of them was parsed.
 */
export type RunObserver = (requests: Request[], responses: Response[], seconds: number) => void;

/**
 * A connection's runner that reports each run to `observe` (stats and metrics), and `onClose`
 * when the connection closes. One clock read per run (the connection reads one per chunk
 * received); the responses are passed on untouched.
 */
export function observedRunner(runner: RequestRunner, observe: RunObserver, onClose?: () => void): RequestRunner {
  return {
    runLength: (peek) => runner.runLength(peek),
    async run(requests, parsedAt) {
      const started = parsedAt ?? performance.now();
      const responses = await runner.run(requests, parsedAt);
      observe(requests, responses, (performance.now() - started) / 1000);
      return responses;
    },
    close() {
      runner.close();
      onClose?.();
    },
  };
}
