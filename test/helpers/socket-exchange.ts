/**
 * Raw TCP helper for byte-exact protocol tests.
 *
 * An "exchange" sends some bytes (optionally in chunks with delays) and then
 * collects the reply bytes. By default the end of the reply is found with a
 * sentinel: after the payload `version\r\n` is sent and the reply is read
 * until a line starting with `VERSION ` completes; the bytes before that line
 * are returned. For payloads after which the server closes the connection
 * (quit, HTTP request lines, over-long lines) use `untilClose`, which reads
 * until the peer closes (bounded by a timeout) and reports `closed: true`.
 * Everything is bounded in time; nothing throws on timeouts, the result says
 * `timedOut: true` instead so differential tests can compare behaviour.
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
  /** Connect timeout in ms (default 5000). */
  connectTimeoutMs?: number;
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
    sock.on('error', onEnd);
  }

  static open(host: string, port: number, opts: OpenOptions = {}): Promise<RawConnection> {
    const timeoutMs = opts.connectTimeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port });
      sock.setNoDelay(true);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
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

  /** True once the peer closed the connection (or it errored). */
  get isClosed(): boolean {
    return this.ended;
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

/** One-shot helper: open a connection, do one exchange, close. */
export async function exchangeOnce(
  host: string,
  port: number,
  payload: string | Buffer | Uint8Array,
  opts: ExchangeOptions = {},
): Promise<ExchangeResult> {
  const conn = await RawConnection.open(host, port);
  try {
    return await conn.exchange(payload, opts);
  } finally {
    await conn.close();
  }
}

const VALUE_LINE = /^VALUE ([^ ]+) (\d+) (\d+)(?: (\d+))?\r\n$/;
/** A meta reply line: a two-letter code, then flags. */
const META_LINE = /^(HD|VA|EN|NF|NS|EX|ME)( [^\r\n]*)?\r\n$/;

/** Key under which MaskedReply.cas records the last non-zero CAS of a meta reply. */
export const LAST_META_CAS = '@meta';

export interface MaskedReply {
  masked: Buffer;
  /** cas uniques seen in VALUE lines, by key (latin1); the last meta one under LAST_META_CAS. */
  cas: Map<string, string>;
}

/**
 * Seconds read off two clocks that tick at different moments may differ by one: a remaining
 * TTL is compared rounded up to tens, an idle time rounded down to tens.
 */
const roughTtl = (n: number): string => (n <= 1 ? String(n) : `~${Math.ceil(n / 10) * 10}`);
const roughIdle = (n: number): string => `~${Math.floor(n / 10) * 10}`;

/**
 * Masks a meta reply line: CAS values (c<n>, cas=<n>; zero stays), TTLs (t<n>, exp=<n>) and
 * idle times (l<n>, la=<n>). Returns the masked line and the CAS it carried, if any.
 */
function maskMetaLine(line: string): { line: string; cas?: string } {
  let cas: string | undefined;
  const tokens = line.slice(0, -2).split(' ').map((token, i) => {
    if (i === 0) return token;
    let m = /^c([1-9]\d*)$/.exec(token) ?? /^cas=([1-9]\d*)$/.exec(token);
    if (m) {
      cas = m[1]!;
      return token.startsWith('cas=') ? 'cas=<cas>' : 'c<cas>';
    }
    if ((m = /^t(\d+)$/.exec(token))) return `t${roughTtl(Number(m[1]))}`;
    if ((m = /^exp=-(\d+)$/.exec(token))) return `exp=-${roughTtl(Number(m[1]))}`;
    if ((m = /^l(\d+)$/.exec(token))) return `l${roughIdle(Number(m[1]))}`;
    if ((m = /^la=(\d+)$/.exec(token))) return `la=${roughIdle(Number(m[1]))}`;
    return token;
  });
  return { line: `${tokens.join(' ')}\r\n`, cas };
}

/**
 * Masks what legitimately differs between memcached and memgate in a text
 * protocol reply: the cas unique of `VALUE <key> <flags> <bytes> <cas>` lines
 * becomes `<cas>`, `VERSION <anything>` lines become `VERSION <version>`, and
 * meta replies get their CAS values and clock readings masked (maskMetaLine).
 * Walks the reply line by line; VALUE headers are followed by their data block,
 * which is copied verbatim (it may contain anything, including lines that
 * look like protocol lines).
 */
export function maskTextReply(buf: Buffer): MaskedReply {
  const parts: Buffer[] = [];
  const cas = new Map<string, string>();
  let i = 0;
  while (i < buf.length) {
    const nl = buf.indexOf(0x0a, i);
    if (nl < 0) {
      parts.push(buf.subarray(i));
      break;
    }
    const line = buf.toString('latin1', i, nl + 1);
    const m = VALUE_LINE.exec(line);
    if (m) {
      const [, key, flags, bytes, unique] = m;
      if (unique !== undefined) {
        cas.set(key!, unique);
        parts.push(Buffer.from(`VALUE ${key} ${flags} ${bytes} <cas>\r\n`, 'latin1'));
      } else {
        parts.push(buf.subarray(i, nl + 1));
      }
      const end = Math.min(buf.length, nl + 1 + Number(bytes) + 2);
      parts.push(buf.subarray(nl + 1, end));
      i = end;
      continue;
    }
    const meta = META_LINE.exec(line);
    if (meta) {
      const masked = maskMetaLine(line);
      if (masked.cas) cas.set(LAST_META_CAS, masked.cas);
      parts.push(Buffer.from(masked.line, 'latin1'));
      i = nl + 1;
      if (meta[1] === 'VA') {
        // VA <bytes> <flags>*: the data block follows, copied verbatim.
        const end = Math.min(buf.length, i + Number(line.split(' ')[1]) + 2);
        parts.push(buf.subarray(i, end));
        i = end;
      }
      continue;
    }
    if (line.startsWith('VERSION ')) {
      parts.push(Buffer.from('VERSION <version>\r\n', 'latin1'));
    } else {
      parts.push(buf.subarray(i, nl + 1));
    }
    i = nl + 1;
  }
  return { masked: Buffer.concat(parts), cas };
}

/**
 * Lossless, readable rendering: printable ASCII as-is, everything else (and
 * `\`, `{`) escaped, runs of more than 16 equal bytes as `{<byte>*<count>}`.
 */
export function render(buf: Buffer): string {
  const esc = (b: number): string => {
    if (b === 0x0d) return '\\r';
    if (b === 0x0a) return '\\n';
    if (b === 0x5c) return '\\\\';
    if (b === 0x7b) return '\\x7b';
    if (b >= 0x20 && b < 0x7f) return String.fromCharCode(b);
    return `\\x${b.toString(16).padStart(2, '0')}`;
  };
  let out = '';
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    let j = i + 1;
    while (j < buf.length && buf[j] === b) j++;
    const run = j - i;
    if (run > 16) {
      out += `{${esc(b)}*${run}}`;
    } else {
      for (let r = 0; r < run; r++) out += esc(b);
    }
    i = j;
  }
  return out;
}

