export interface RetryOptions {
  /** pause between attempts */
  retryMs: number;
  /** least time between two onStillFailing calls */
  reportEveryMs: number;
  /** called at most once per reportEveryMs while attempts keep failing */
  onStillFailing(error: unknown, failingForMs: number): void;
  onDone(failedForMs: number): void;
}

/**
 * Runs task again every retryMs until it succeeds, for work that already failed once and must
 * not hold start-up (the gateway serves SERVER_ERROR meanwhile). Reports at a steady pace, so
 * that a database which stays away is not forgotten after one warning. Returns stop().
 */
export function retryInBackground(task: () => Promise<void>, options: RetryOptions): () => void {
  const since = Date.now();
  let reportedAt = since;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = () => task().then(
    () => {
      if (!stopped) options.onDone(Date.now() - since);
    },
    (error: unknown) => {
      if (stopped) return;
      if (Date.now() - reportedAt >= options.reportEveryMs) {
        reportedAt = Date.now();
        options.onStillFailing(error, reportedAt - since);
      }
      schedule();
    },
  );
  const schedule = () => {
    timer = setTimeout(() => void attempt(), options.retryMs);
    timer.unref();
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
