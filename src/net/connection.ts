import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'winston';
import type { SaslAuthenticator } from '../auth/sasl-session.js';
import type { RequestRunner } from '../model/request-runner.js';
import type { Request } from '../model/request.js';
import type { Response } from '../model/response.js';
import type { ServerStats } from '../stats/server-stats.js';
import { codecFor, type ProtocolCodec, type QueuedEvent } from './protocol-codec.js';

export interface ConnectionOptions {
  itemSizeMax: number;
  /** parsed requests waiting to run before we stop reading from the socket */
  maxQueuedRequests: number;
  /** SASL PLAIN required (binary protocol only, as memcached -S) */
  sasl?: SaslAuthenticator;
  /** a connection silent this long is closed and counted in idle_kicks; 0 or absent: never */
  idleTimeoutMs?: number;
}

/** What a connection is given to serve its client; it counts bytes and connections in stats. */
export interface ConnectionServices {
  /** a runner for one new connection, closed when the connection closes */
  openRunner(): RequestRunner;
  stats: ServerStats;
}

/** Replies up to this size are copied into one buffer and sent with one write. */
const MAX_COPIED_REPLY_BYTES = 64 * 1024;

type RequestEvent = Extract<QueuedEvent, { type: 'request' }>;

/**
 * One client connection: parses what arrives, runs requests one after another in arrival
 * order (pipelining), and stops reading while the client does not read its replies or while
 * too much work is queued, so one client cannot make the gateway buffer without limit.
 */
export class ClientConnection {
  private codec: ProtocolCodec | null = null;
  private readonly queue: QueuedEvent[] = [];
  private running = false;
  private ending = false;
  private inputEnded = false;
  private readonly idle: Array<() => void> = [];
  /** reply bytes produced but not yet handed to the socket */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly runner: RequestRunner;

  constructor(
    private readonly socket: Socket,
    private readonly services: ConnectionServices,
    private readonly options: ConnectionOptions,
    private readonly logger: Logger,
  ) {
    this.runner = services.openRunner();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.updateFlow());
    socket.on('error', (error) => logger.debug('client socket error', { error: error.message }));
    socket.on('close', () => {
      this.ending = true;
      this.queue.length = 0;
      this.runner.close();
      this.notifyIdle();
    });
    // A client that half-closes after its last request (printf … | nc -N) still gets every
    // reply; the server is created with allowHalfOpen so that we decide when to close.
    socket.on('end', () => {
      this.inputEnded = true;
      if (!this.running && this.queue.length === 0) this.hangUp();
    });
    const idleMs = options.idleTimeoutMs ?? 0;
    if (idleMs > 0) {
      // Any byte either way restarts the socket's timer: a reply leaving counts as activity.
      socket.setTimeout(idleMs);
      socket.on('timeout', () => this.onSilence(idleMs));
    }
  }

  /**
   * Silence is the client's only when nothing of its own is waiting for the database: a request
   * that runs long (a slow statement, a lock wait) is not silence. A client that stops reading
   * its replies is silent too, whatever it asked.
   */
  private onSilence(idleMs: number): void {
    if (this.socket.destroyed) return;
    const waitingForDatabase = this.running && !this.socket.writableNeedDrain;
    if (waitingForDatabase) {
      this.socket.setTimeout(idleMs);
      return;
    }
    this.services.stats.count('idle_kicks');
    this.logger.debug('closing idle connection', { idleMs });
    this.ending = true;
    this.queue.length = 0;
    this.socket.destroy();
  }

  /** Closes after the replies written so far have left; nothing more is read or run. */
  private hangUp(): void {
    this.queue.length = 0;
    this.ending = true;
    if (this.socket.destroyed) return;
    this.socket.end(() => this.socket.destroy());
  }

  /** Stop reading, let queued requests finish, then close. */
  async shutdown(graceMs: number): Promise<void> {
    this.socket.pause();
    this.ending = true;
    if (this.running || this.queue.length > 0) {
      await Promise.race([
        new Promise<void>((resolve) => this.idle.push(resolve)),
        new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
      ]);
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), graceMs).unref();
  }

  private onData(chunk: Buffer): void {
    this.services.stats.count('bytes_read', chunk.length);
    // After quit, a protocol error that closes, or shutdown: nothing more is run.
    if (chunk.length === 0 || this.ending) return;
    this.codec ??= codecFor(chunk[0]!, this.options);
    // One clock read per chunk: every request completed by it was parsed now.
    const parsedAt = performance.now();
    try {
      this.codec.feed(chunk, (event) => {
        if (event.type === 'request') event.parsedAt = parsedAt;
        this.queue.push(event);
      });
    } catch (error) {
      // A parser bug must cost this connection only, never the process.
      this.logger.error('cannot parse client input; closing connection', { error: error instanceof Error ? error.stack : String(error) });
      this.socket.destroy();
      return;
    }
    this.updateFlow();
    this.run().catch((error: unknown) => {
      this.logger.error('connection failed; closing it', { error: error instanceof Error ? error.stack : String(error) });
      this.socket.destroy();
    });
  }

  private updateFlow(): void {
    if (this.ending) return;
    const congested = this.socket.writableNeedDrain || this.queue.length >= this.options.maxQueuedRequests;
    if (congested) this.socket.pause();
    else this.socket.resume();
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.socket.destroyed) {
        if (this.socket.writableNeedDrain) {
          // The client is not reading its replies: produce no more until it does, or
          // its queued requests would turn into unbounded reply buffers here.
          await this.drained();
          continue;
        }
        const event = this.queue.shift()!;
        if (event.type === 'reply') {
          this.write(event.data);
        } else if (event.type === 'close') {
          this.flush();
          this.hangUp();
        } else {
          const batch = this.takeRun(event);
          // Let replies of earlier requests leave while these wait for the database.
          this.flush();
          const responses = await this.execute(batch);
          for (const [i, queued] of batch.entries()) {
            if (i > 0 && this.socket.writableNeedDrain) {
              this.flush();
              await this.drained();
            }
            queued.respond(responses[i]!, this.write);
          }
          if (responses.some((r) => r.kind === 'quit')) {
            this.flush();
            this.hangUp();
          }
        }
        this.updateFlow();
      }
    } finally {
      this.flush();
      this.running = false;
      this.updateFlow();
      this.notifyIdle();
      if (this.inputEnded && this.queue.length === 0) this.hangUp();
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** The request and those queued right behind it that the runner runs together with it. */
  private takeRun(first: RequestEvent): RequestEvent[] {
    const peek = (index: number): Request | undefined => {
      const event = index === 0 ? first : this.queue[index - 1];
      return event?.type === 'request' ? event.request : undefined;
    };
    const length = this.runner.runLength(peek);
    return [first, ...(this.queue.splice(0, length - 1) as RequestEvent[])];
  }

  private async execute(batch: RequestEvent[]): Promise<Response[]> {
    try {
      return await this.runner.run(batch.map((e) => e.request), batch[0]!.parsedAt);
    } catch (error) {
      // The runner answers command failures itself; this keeps a bug in it to one reply each.
      this.logger.error('request runner failed', { error: error instanceof Error ? error.stack : String(error) });
      return batch.map((): Response => ({ kind: 'serverError', message: 'internal error' }));
    }
  }

  /** Reply pieces are gathered and sent with one write: a write to a socket costs a system call. */
  private readonly write = (piece: string | Buffer): void => {
    const data = typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece;
    this.pending.push(data);
    this.pendingBytes += data.length;
    // Big replies go to the socket as they come, so that writableNeedDrain tells when the
    // client stops reading.
    if (this.pendingBytes >= MAX_COPIED_REPLY_BYTES) this.flush();
  };

  private flush(): void {
    const { pending } = this;
    if (pending.length === 0) return;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.socket.destroyed) return;
    this.services.stats.count('bytes_written', bytes);
    if (pending.length === 1) {
      this.socket.write(pending[0]!);
    } else if (bytes <= MAX_COPIED_REPLY_BYTES) {
      this.socket.write(Buffer.concat(pending, bytes));
    } else {
      // Large values go out as they are (one writev), not copied.
      this.socket.cork();
      for (const data of pending) this.socket.write(data);
      this.socket.uncork();
    }
  }

  private notifyIdle(): void {
    if (this.running || this.queue.length > 0) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }
}
