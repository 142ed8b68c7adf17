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
}

/**
 * Merges work that arrives while earlier batches are running. Nothing waits for a timer: when
 * fewer than maxInFlight batches run, a request starts at once (alone, at low load), so merging
 * costs no latency and grows with the load by itself.
 */
export class Batcher<T, R> {
  private readonly queue: Array<Waiting<T, R>> = [];
  private inFlight = 0;

  constructor(
    private readonly runBatch: (items: T[]) => Promise<R[]>,
    private readonly options: BatcherOptions,
  ) {}

  submit(item: T, weight: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, weight, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      let weight = this.queue[0]!.weight;
      let count = 1;
      while (count < this.queue.length && weight + this.queue[count]!.weight <= this.options.maxWeight) {
        weight += this.queue[count]!.weight;
        count++;
      }
      this.start(this.queue.splice(0, count));
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
      this.pump();
    });
  }
}
