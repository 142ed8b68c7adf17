import type { Logger } from 'winston';

// SIGPIPE is left alone: Node already ignores it and reports EPIPE on the socket.
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * First signal: graceful stop, then exit 0. A second signal while stopping exits at once.
 * Returns a function that removes the handlers.
 */
export function installSignalHandlers(stop: () => Promise<void>, logger: Logger): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn('second signal, exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('stopping', { signal });
    stopThenExit(stop, logger);
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  return () => {
    for (const signal of SIGNALS) process.off(signal, handler);
  };
}

/** Runs stop, then exits: 0 once it is done, 1 when it fails (logged). */
export function stopThenExit(stop: () => Promise<void>, logger: Logger): void {
  stop().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error('error while stopping', { error: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    },
  );
}
