import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { ConfigError } from '../config/load-config.js';

/** The client TLS settings: PEM file paths (empty: not given) and whether plain clients are served too. */
export interface ClientTlsSettings {
  cert: string;
  key: string;
  ca: string;
  plainToo: boolean;
}

/** A TLS record starts with its content type; a handshake, the first thing a TLS client sends, is 22. */
const TLS_HANDSHAKE = 0x16;

const NAMES = {
  cert: '[tls.cert, --tls-cert, MEMGATE_TLS_CERT]',
  key: '[tls.key, --tls-key, MEMGATE_TLS_KEY]',
  ca: '[tls.ca, --tls-ca, MEMGATE_TLS_CA]',
} as const;

export type UpgradeOutcome =
  | { kind: 'serve'; socket: Socket }
  | { kind: 'refused'; reason: string };

/**
 * TLS for client connections on the TCP port. Each accepted socket is looked at by its first
 * byte: a TLS handshake is answered with TLS (and a client certificate checked when tls.ca is
 * set); anything else is served as plain memcached when tls.plainToo, else closed.
 */
export class ClientTls {
  /** what to do when the handshake of an accepted socket ends, by that socket */
  private readonly waiting = new WeakMap<Socket, (outcome: UpgradeOutcome) => void>();

  private constructor(private readonly server: tls.Server, readonly plainToo: boolean) {
    // The TLS socket names the socket it took over only as _parent (Node has no public name for
    // it); one listener each for all connections, instead of one per connection.
    const settle = (socket: TLSSocket, outcome: UpgradeOutcome) => {
      const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
      const done = raw && this.waiting.get(raw);
      if (!done) return;
      this.waiting.delete(raw);
      done(outcome);
    };
    server.on('secureConnection', (socket: TLSSocket) => settle(socket, { kind: 'serve', socket }));
    server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      settle(socket, { kind: 'refused', reason: `TLS handshake failed: ${error.message}` });
      socket.destroy();
    });
  }

  /** Reads and checks the files; a problem stops start-up with a message naming the setting. */
  static async load(settings: ClientTlsSettings): Promise<ClientTls | null> {
    if (!settings.cert && !settings.key) {
      if (settings.ca) throw new ConfigError(`tls.ca is set without tls.cert and tls.key: a client certificate is asked for only over TLS ${NAMES.ca}`);
      return null;
    }
    if (!settings.cert) throw new ConfigError(`tls.key is set without tls.cert ${NAMES.cert}`);
    if (!settings.key) throw new ConfigError(`tls.cert is set without tls.key ${NAMES.key}`);
    const cert = await readPem(settings.cert, 'cert');
    const key = await readPem(settings.key, 'key');
    const ca = settings.ca ? await readPem(settings.ca, 'ca') : undefined;
    const options: tls.TlsOptions = { cert, key, ca, requestCert: ca !== undefined, rejectUnauthorized: ca !== undefined };
    try {
      tls.createSecureContext(options);
    } catch (error) {
      throw new ConfigError(`cannot use tls.cert ${settings.cert} with tls.key ${settings.key}${ca ? ` and tls.ca ${settings.ca}` : ''}: ` +
        `${(error as Error).message} [--tls-cert, --tls-key, --tls-ca]`);
    }
    // Never listens: it is handed the sockets whose first byte is a TLS handshake.
    return new ClientTls(tls.createServer(options), settings.plainToo);
  }

  /**
   * Waits for the client's first bytes, then calls `done` once: with the socket to serve (the
   * TLS socket after a completed handshake, or the plain one), or with why it was closed. A
   * socket that closes before that gets no call.
   */
  upgrade(raw: Socket, done: (outcome: UpgradeOutcome) => void): void {
    raw.once('data', (first: Buffer) => {
      raw.pause();
      raw.unshift(first);
      if (first[0] === TLS_HANDSHAKE) {
        this.waiting.set(raw, done);
        // The TLS socket takes the connection over, with the bytes put back above.
        this.server.emit('connection', raw);
      } else if (this.plainToo) {
        done({ kind: 'serve', socket: raw });
      } else {
        raw.destroy();
        done({ kind: 'refused', reason: 'plain bytes on a TLS-only port' });
      }
    });
  }
}

async function readPem(path: string, setting: keyof typeof NAMES): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ConfigError(`tls.${setting} ${path}: cannot read it: ${(error as Error).message} ${NAMES[setting]}`);
  }
}
