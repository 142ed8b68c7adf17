/**
 * The one raw TCP client of the tests: it writes bytes as given (optionally in chunks with
 * delays) and reads reply bytes back, for byte-exact protocol tests of either protocol.
 *
 * Reads are bounded in time and never throw: a result says `timedOut` or `closed` instead, so
 * that differential tests can compare what two servers did. An "exchange" sends bytes and reads
 * the reply; by default its end is found with a sentinel: after the payload `version\r\n` is
 * sent and the reply is read until a line starting with `VERSION ` completes, and the bytes
 * before that line are returned. For payloads after which the server closes the connection
 * (quit, HTTP request lines, over-long lines) mode 'close' reads until the peer closes.
 *
 * On top of that, for tests that talk the text protocol one request at a time, `reply` and
 * `request` read one whole text reply and throw when it does not come.
 */
import net from 'node:net';

export const SENTINEL_COMMAND = 'version\r\n';

export interface SendOptions {
  /** Split the payload into chunks of this many bytes (default: one write). */
  chunkSize?: number;
  /** Delay between chunks in ms (default 0 = next event-loop turn). */
  chunkDelayMs?: number;
}

export interface ExchangeOptions extends SendOptions {
  /**
   * 'sentinel' (default): append `version\r\n` and read up to the VERSION line.
   * 'close': read until the server closes the connection.
   * 'quiet': read whatever arrives within `quietMs` (no sentinel sent).
   */
  mode?: 'sentinel' | 'close' | 'quiet';
  /** Overall time bound for the read (ms, default 5000). */
  timeoutMs?: number;
  /** For mode 'quiet': how long to collect (ms, default 300). */
  quietMs?: number;
}

export interface ExchangeResult {
  /** Reply bytes (for 'sentinel' mode: without the VERSION line). */
  data: Buffer;
  /** The VERSION line that terminated the reply (sentinel mode), if seen. */
  versionLine?: string;
  /** The peer closed the connection (or it errored) before/while reading. */
  closed: boolean;
  /** The time bound was hit before the expected end of the reply. */
  timedOut: boolean;
}

export interface OpenOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Connect timeout in ms (default 5000). */
  connectTimeoutMs?: number;
  /** Keep our side open after the peer's FIN, so that a half-closed exchange can be observed. */
  allowHalfOpen?: boolean;
  /** A unix socket to connect to instead of host:port. */
  path?: string;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function toBuffer(data: string | Buffer | Uint8Array): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'latin1');
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/**
 * Finds a complete trailing `VERSION ...\r\n` line at the end of `buf`.
 * Returns the offset where the line starts, or -1.
 */
export function findTrailingVersionLine(buf: Buffer): number {
  if (buf.length < 10) return -1;
  if (buf[buf.length - 2] !== 0x0d || buf[buf.length - 1] !== 0x0a) return -1;
  const prevNl = buf.lastIndexOf(0x0a, buf.length - 2);
  const lineStart = prevNl + 1;
  if (buf.subarray(lineStart, lineStart + 8).toString('latin1') !== 'VERSION ') return -1;
  return lineStart;
}

export class RawConnection {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private waiter: (() => void) | null = null;
  private socketError: Error | undefined;

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.wake();
    });
    const onEnd = (): void => {
      this.ended = true;
      this.wake();
    };
    sock.on('end', onEnd);
    sock.on('close', onEnd);
    sock.on('error', (err) => {
      this.socketError ??= err;
      onEnd();
    });
  }

  static open(port: number, opts: OpenOptions = {}): Promise<RawConnection> {
    const host = opts.host ?? '127.0.0.1';
    const timeoutMs = opts.connectTimeoutMs ?? 5000;
    const allowHalfOpen = opts.allowHalfOpen ?? false;
    return new Promise((resolve, reject) => {
      const sock = opts.path ? net.connect({ path: opts.path, allowHalfOpen }) : net.connect({ host, port, allowHalfOpen });
      sock.setNoDelay(true);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${opts.path ?? `${host}:${port}`} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      sock.once('error', onError);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.off('error', onError);
        resolve(new RawConnection(sock));
      });
    });
  }

  /** Whether something accepts a connection on `port` now; the connection is closed again at once. */
  static async canConnect(port: number, opts: OpenOptions = {}): Promise<boolean> {
    try {
      const conn = await RawConnection.open(port, opts);
      await conn.close();
      return true;
    } catch {
      return false;
    }
  }

  /** True once the peer closed the connection (or it errored). */
  get isClosed(): boolean {
    return this.ended;
  }

  /** The socket error that ended the connection, if it was not an orderly close. */
  get error(): Error | undefined {
    return this.socketError;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  /** Waits until new data/close arrives or `ms` elapse. */
  private waitForEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve();
      }, Math.max(0, ms));
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Removes and returns everything received so far. */
  take(): Buffer {
    const b = this.buf;
    this.buf = Buffer.alloc(0);
    return b;
  }

  /** Writes bytes, optionally in chunks with delays. Ignores writes after close. */
  async send(data: string | Buffer | Uint8Array, opts: SendOptions = {}): Promise<void> {
    const bytes = toBuffer(data);
    const size = opts.chunkSize && opts.chunkSize > 0 ? opts.chunkSize : bytes.length || 1;
    for (let off = 0; off < bytes.length; off += size) {
      if (this.ended || this.sock.destroyed) return;
      const chunk = bytes.subarray(off, off + size);
      await new Promise<void>((resolve) => {
        this.sock.write(chunk, () => resolve());
      });
      if (off + size < bytes.length) await delay(opts.chunkDelayMs ?? 0);
    }
  }

  /** Reads until the buffer ends with a complete `VERSION ` line, close, or timeout. */
  async readUntilVersion(timeoutMs = 5000): Promise<ExchangeResult> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = findTrailingVersionLine(this.buf);
      if (at >= 0) {
        const all = this.take();
        return {
          data: all.subarray(0, at),
          versionLine: all.subarray(at, all.length - 2).toString('latin1'),
          closed: false,
          timedOut: false,
        };
      }
      if (this.ended) return { data: this.take(), closed: true, timedOut: false };
      const left = deadline - Date.now();
      if (left <= 0) return { data: this.take(), closed: false, timedOut: true };
      await this.waitForEvent(left);
    }
  }

  /**
   * Reads until `findEnd(buffer)` returns the offset just past the end of the
   * expected reply (>= 0), the peer closes, or the timeout elapses. On success
   * the bytes up to that offset are returned and the rest stays buffered.
   */
  async readUntil(findEnd: (buf: Buffer) => number, timeoutMs = 5000): Promise<ExchangeResult> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = findEnd(this.buf);
      if (end >= 0) {
        const data = this.buf.subarray(0, end);
        this.buf = this.buf.subarray(end);
        return { data, closed: false, timedOut: false };
      }
      if (this.ended) return { data: this.take(), closed: true, timedOut: false };
      const left = deadline - Date.now();
      if (left <= 0) return { data: this.take(), closed: false, timedOut: true };
      await this.waitForEvent(left);
    }
  }

  /** Reads until the peer closes the connection or the timeout elapses. */
  async readUntilClose(timeoutMs = 5000): Promise<ExchangeResult> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) return { data: this.take(), closed: false, timedOut: true };
      await this.waitForEvent(left);
    }
    return { data: this.take(), closed: true, timedOut: false };
  }

  /** Collects whatever arrives during `ms` milliseconds (or until close). */
  async readFor(ms: number): Promise<ExchangeResult> {
    const deadline = Date.now() + ms;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await this.waitForEvent(left);
    }
    return { data: this.take(), closed: this.ended, timedOut: false };
  }

  /** Sends `payload` and reads the reply according to `opts.mode`. */
  async exchange(payload: string | Buffer | Uint8Array, opts: ExchangeOptions = {}): Promise<ExchangeResult> {
    const mode = opts.mode ?? 'sentinel';
    const timeoutMs = opts.timeoutMs ?? 5000;
    if (mode === 'sentinel') {
      await this.send(Buffer.concat([toBuffer(payload), Buffer.from(SENTINEL_COMMAND, 'latin1')]), opts);
      return this.readUntilVersion(timeoutMs);
    }
    await this.send(payload, opts);
    if (mode === 'close') return this.readUntilClose(timeoutMs);
    return this.readFor(Math.min(opts.quietMs ?? 300, timeoutMs));
  }

  /** Half-closes: sends our FIN and keeps reading (open with allowHalfOpen to see the rest). */
  end(): void {
    this.sock.end();
  }

  /**
   * Reads one whole text reply (see textReplyEnd) as latin1, CRLFs included; throws when the
   * connection closes or `timeoutMs` pass first.
   */
  async reply(timeoutMs = 5000): Promise<string> {
    const res = await this.readUntil(textReplyEnd, timeoutMs);
    const have = (): string => JSON.stringify(res.data.toString('latin1').slice(0, 200));
    if (res.timedOut) throw new Error(`timed out waiting for a reply; have ${have()}`);
    if (res.closed) throw new Error(`connection closed while waiting for a reply; have ${have()}`);
    return res.data.toString('latin1');
  }

  /** Sends `data` and reads one whole text reply (see reply). */
  async request(data: string | Buffer, timeoutMs = 5000): Promise<string> {
    // The reply's deadline also bounds a write the server does not read.
    const sent = this.send(data);
    const reply = await this.reply(timeoutMs);
    await sent;
    return reply;
  }

  /** Closes the connection (idempotent, bounded). */
  async close(): Promise<void> {
    if (this.sock.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.sock.destroy();
        resolve();
      }, 1000);
      this.sock.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.sock.end();
      this.sock.destroy();
    });
  }
}

/**
 * The offset just past the first whole text reply in `buf`, or -1 while it is incomplete:
 * VALUE blocks (with their data) and STAT lines run up to the line that ends them, a meta VA
 * line is followed by its data block, any other line is a reply of its own.
 */
export function textReplyEnd(buf: Buffer): number {
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at, 'latin1');
    if (eol < 0) return -1;
    const line = buf.toString('latin1', at, eol);
    at = eol + 2;
    const value = /^VALUE \S+ \d+ (\d+)/.exec(line);
    if (value) {
      at += Number(value[1]) + 2;
      if (at > buf.length) return -1;
      continue;
    }
    if (line.startsWith('STAT ')) continue;
    const meta = /^VA (\d+)/.exec(line);
    if (meta) at += Number(meta[1]) + 2;
    return at > buf.length ? -1 : at;
  }
}

/** A `stats` reply as name → value (empty for no reply). */
export function parseStats(reply: string | null): Map<string, string> {
  const stats = new Map<string, string>();
  for (const match of (reply ?? '').matchAll(/^STAT (\S+) (.*)\r$/gm)) stats.set(match[1]!, match[2]!);
  return stats;
}
