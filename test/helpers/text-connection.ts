import net from 'node:net';

/**
 * A raw text-protocol connection that reads whole replies (VALUE blocks and STAT lists up to
 * END, a meta VA line with its data block, any other line alone).
 */
export class TextConnection {
  private buf: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private ended = false;

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.notify();
    });
    const end = (): void => {
      this.ended = true;
      this.notify();
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  static open(port: number, timeoutMs = 3000): Promise<TextConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${port} timed out`));
      }, timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new TextConnection(socket));
      });
    });
  }

  send(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private async until<T>(take: () => T | undefined, deadline: number, what: string): Promise<T> {
    for (;;) {
      const result = take();
      if (result !== undefined) return result;
      if (this.ended) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; have ${JSON.stringify(this.buf.toString('latin1').slice(0, 200))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private line(deadline: number): Promise<string> {
    return this.until(() => {
      const eol = this.buf.indexOf('\r\n');
      if (eol < 0) return undefined;
      const line = this.buf.toString('latin1', 0, eol);
      this.buf = this.buf.subarray(eol + 2);
      return line;
    }, deadline, 'a reply line');
  }

  private bytes(n: number, deadline: number): Promise<Buffer> {
    return this.until(() => {
      if (this.buf.length < n) return undefined;
      const out = this.buf.subarray(0, n);
      this.buf = this.buf.subarray(n);
      return out;
    }, deadline, `${n} bytes of data`);
  }

  /** One complete reply as latin1 text, CRLFs included. */
  async reply(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let out = '';
    for (;;) {
      const line = await this.line(deadline);
      out += `${line}\r\n`;
      const value = /^VALUE \S+ \d+ (\d+)/.exec(line);
      if (value) {
        out += (await this.bytes(Number(value[1]) + 2, deadline)).toString('latin1');
        continue;
      }
      if (line.startsWith('STAT ')) continue;
      const meta = /^VA (\d+)/.exec(line);
      if (meta) out += (await this.bytes(Number(meta[1]) + 2, deadline)).toString('latin1');
      return out;
    }
  }

  async request(data: string | Buffer, timeoutMs = 5000): Promise<string> {
    this.send(data);
    return this.reply(timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A `stats` reply as name → value (empty for no reply). */
export function parseStats(reply: string | null): Map<string, string> {
  const stats = new Map<string, string>();
  for (const match of (reply ?? '').matchAll(/^STAT (\S+) (.*)\r$/gm)) stats.set(match[1]!, match[2]!);
  return stats;
}
