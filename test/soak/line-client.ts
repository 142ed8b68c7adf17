/**
 * The soak's memcached text client: one request at a time, bounded in time, and it never
 * throws for a server going away: a request whose reply did not come reports 'lost' (its
 * effect is unknown), one that could not be sent 'unsent' (no effect). It reconnects on the
 * next request.
 */
import net from 'node:net';

export type Reply = { kind: 'reply'; text: string } | { kind: 'lost' } | { kind: 'unsent' };

const TIMEOUT_MS = 5000;

export class LineClient {
  private socket: net.Socket | null = null;
  private buffer = '';
  private waiter: (() => void) | null = null;

  constructor(readonly port: number) {}

  private async connect(): Promise<net.Socket | null> {
    if (this.socket && !this.socket.destroyed) return this.socket;
    this.buffer = '';
    return new Promise((resolve) => {
      const socket = net.connect({ port: this.port, host: '127.0.0.1' });
      const timer = setTimeout(() => fail(), TIMEOUT_MS);
      const fail = () => {
        clearTimeout(timer);
        socket.destroy();
        resolve(null);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', fail);
        socket.on('error', () => socket.destroy());
        socket.on('close', () => this.waiter?.());
        socket.on('data', (d: Buffer) => {
          this.buffer += d.toString('latin1');
          this.waiter?.();
        });
        this.socket = socket;
        resolve(socket);
      });
    });
  }

  /** Sends `request` and waits for a reply that `complete` accepts (default: one line). */
  async request(request: string, complete: (buffer: string) => boolean = (b) => b.includes('\r\n')): Promise<Reply> {
    const socket = await this.connect();
    if (!socket) return { kind: 'unsent' };
    socket.write(request);
    const deadline = Date.now() + TIMEOUT_MS;
    while (!complete(this.buffer)) {
      if (socket.destroyed || Date.now() > deadline) {
        socket.destroy();
        return { kind: 'lost' };
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
    const text = this.buffer;
    this.buffer = '';
    return { kind: 'reply', text };
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }
}

export const untilEnd = (b: string): boolean => b.endsWith('END\r\n') || /^(SERVER_ERROR|CLIENT_ERROR|ERROR)[^\n]*\r\n$/.test(b);
