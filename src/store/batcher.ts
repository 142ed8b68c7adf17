interface Waiting<T, R> {
  item: T;
  weight: number;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export interface BatcherOptions {
  /** batches running at once; what arrives meanwhile waits and joins the next batch */
  maxInFlight: number;
  /** most total weight (keys, bytes…) in one batch; a single heavier item still runs alone */
  maxWeight: number;
  /**
   * How long, in ms, a request that could start at once waits for others to join it (0: it
   * starts at once). Requests that waited for a running batch never wait again.
   */
  windowMs?: number;
}

/**
 * Merges work that arrives while earlier batches are running. By default nothing waits for a
 * timer: when fewer than maxInFlight batches run, a request starts at once (alone, at low
 * load), so merging costs no latency and grows with the load by itself. A window makes a
 * request that finds a free slot wait that long for company, or until the batch is full.
 */
export class Batcher<T, R> {
  private readonly queue: Array<Waiting<T, R>> = [];
  private queuedWeight = 0;
  private inFlight = 0;
  private window: NodeJS.Timeout | null = null;

  constructor(
    private readonly runBatch: (items: T[]) => Promise<R[]>,
    private readonly options: BatcherOptions,
  ) {}

  submit(item: T, weight: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, weight, resolve, reject });
      this.queuedWeight += weight;
      this.pump(false);
    });
  }

  /** windowOver: the requests queued have waited enough (a window ran out, or a batch ran). */
  private pump(windowOver: boolean): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const windowMs = this.options.windowMs ?? 0;
      if (windowMs > 0 && !windowOver && this.queuedWeight < this.options.maxWeight) {
        this.window ??= setTimeout(() => {
          this.window = null;
          this.pump(true);
        }, windowMs);
        return;
      }
      let weight = this.queue[0]!.weight;
      let count = 1;
      while (count < this.queue.length && weight + this.queue[count]!.weight <= this.options.maxWeight) {
        weight += this.queue[count]!.weight;
        count++;
      }
      this.queuedWeight -= weight;
      this.start(this.queue.splice(0, count));
    }
    if (this.queue.length === 0 && this.window) {
      clearTimeout(this.window);
      this.window = null;
    }
  }

  private start(batch: Array<Waiting<T, R>>): void {
    this.inFlight++;
    let run: Promise<R[]>;
    try {
      run = this.runBatch(batch.map((w) => w.item));
    } catch (error) {
      run = Promise.reject(error);
    }
    run.then(
      (results) => batch.forEach((w, i) => w.resolve(results[i]!)),
      (error: unknown) => batch.forEach((w) => w.reject(error)),
    ).finally(() => {
      this.inFlight--;
      this.pump(true);
    });
  }
}
