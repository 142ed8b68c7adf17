export interface Readiness {
  ready: boolean;
  /** why not, for the 503 body and the log */
  reason?: string;
}

export interface ReadinessOptions {
  /** a probe answered this recently is reused: load balancers of a fleet may all ask at once */
  reuseMs: number;
  /** a probe that takes longer counts as failed (a frozen database answers nothing) */
  timeoutMs: number;
}

/**
 * /readyz: whether the gateway can serve, by a probe that reaches the database and the item
 * table (`probe` rejects with the reason otherwise). One probe at a time; its answer is reused
 * for reuseMs.
 */
export function readinessCheck(probe: () => Promise<void>, options: ReadinessOptions): () => Promise<Readiness> {
  let last: { at: number; readiness: Readiness } | null = null;
  let inFlight: Promise<Readiness> | null = null;
  const run = async (): Promise<Readiness> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from the database within ${options.timeoutMs} ms`)), options.timeoutMs);
    });
    try {
      await Promise.race([probe(), timeout]);
      return { ready: true };
    } catch (error) {
      return { ready: false, reason: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  };
  return () => {
    if (last && Date.now() - last.at < options.reuseMs) return Promise.resolve(last.readiness);
    inFlight ??= run().then((readiness) => {
      last = { at: Date.now(), readiness };
      inFlight = null;
      return readiness;
    });
    return inFlight;
  };
}
