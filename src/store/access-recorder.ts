import type { Logger } from 'winston';
import { mapKey } from './kv-store.js';

/** A read to record: the item version read (its CAS), read once or more than once. */
export interface PendingAccess {
  key: Buffer;
  cas: bigint;
  /** 1, or 2 for twice or more: only an item's first two reads change it */
  reads: 1 | 2;
}

export interface AccessRecorderOptions {
  /** how long a recorded read may wait before it is written */
  intervalMs?: number;
  /** reads queued beyond this start a write at once */
  flushAt?: number;
  /** reads queued beyond this are not recorded until the queue drains */
  maxPending?: number;
}

/**
 * Records plain reads as accesses (memcached's LRU bump: an item's first read marks it
 * fetched, its second sets its last-access time) without making a read wait for a write.
 * Writing the marks as reads happen doubled the cost of reading a freshly written item
 * (a durable commit per read); queued, a whole interval of reads costs one short transaction.
 * A command that reports the marks (mg h/l, me) settles the queue first, so through one
 * gateway a read is always seen by the next report; other gateways see it within intervalMs.
 */
export class AccessRecorder {
  private readonly queue = new Map<string, PendingAccess>();
  private readonly writingKeys = new Set<string>();
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private dropped = false;

  constructor(
    private readonly write: (accesses: PendingAccess[]) => Promise<void>,
    private readonly logger: Logger,
    private readonly options: AccessRecorderOptions = {},
  ) {}

  record(key: Buffer, cas: bigint): void {
    const id = mapKey(key);
    const queued = this.queue.get(id);
    if (queued && queued.cas === cas) {
      queued.reads = 2;
    } else if (queued || this.queue.size < (this.options.maxPending ?? 10_000)) {
      // a new version of the item starts its count over
      this.queue.set(id, { key, cas, reads: 1 });
    } else {
      if (!this.dropped) this.logger.warn('access marks dropped: the database is not keeping up');
      this.dropped = true;
      return;
    }
    if (this.queue.size >= (this.options.flushAt ?? 1000)) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.intervalMs ?? 20).unref();
  }

  /** true while a read of the key is queued or being written */
  has(key: Buffer): boolean {
    const id = mapKey(key);
    return this.queue.has(id) || this.writingKeys.has(id);
  }

  /** Resolves once every read recorded so far is written (or its write failed). */
  settle(): Promise<void> {
    return this.flush();
  }

  private flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // One write at a time; what queues meanwhile goes into the next.
    this.writing = this.writing.then(async () => {
      const accesses = [...this.queue.values()];
      this.queue.clear();
      if (accesses.length === 0) return;
      const ids = accesses.map((a) => mapKey(a.key));
      for (const id of ids) this.writingKeys.add(id);
      try {
        await this.write(accesses);
        this.dropped = false;
      } catch (error) {
        // Access marks are hints; losing some during an outage only ages them.
        this.logger.debug('access marks not written', { error: (error as Error).message, count: accesses.length });
      } finally {
        for (const id of ids) this.writingKeys.delete(id);
      }
    });
    return this.writing;
  }
}
