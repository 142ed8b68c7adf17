import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'winston';
import { ClientConnection, type ConnectionOptions, type ConnectionServices } from './connection.js';
import { closeListener, listenTcp, listenUnix } from './listeners.js';
import type { ClientTls } from './tls.js';

export interface GatewayServerOptions extends ConnectionOptions {
  /** null: no TCP listener (the unix socket only) */
  tcp: { host: string; port: number } | null;
  /**
   * null: no unix socket. ownsFile: this process replaces a stale file before listening and
   * removes the file on close; false in a worker of several, whose primary does both.
   */
  socket: { path: string; mode: number; ownsFile: boolean } | null;
  /** TLS on the TCP port; the unix socket stays plain */
  tls: ClientTls | null;
  maxConnections: number;
  shutdownGraceMs: number;
}

export interface GatewayAddress {
  /** empty and 0 without a TCP listener */
  host: string;
  port: number;
  /** the unix socket's path, or null */
  socket: string | null;
}

export interface GatewayServer {
  address(): GatewayAddress;
  close(): Promise<void>;
}

/**
 * Listens on TCP and/or a unix socket, tracks connections and, on close, stops accepting and
 * drains them. A connection counts from accept, also while its TLS handshake runs.
 */
export async function startServer(
  options: GatewayServerOptions,
  services: ConnectionServices,
  logger: Logger,
): Promise<GatewayServer> {
  const { stats } = services;
  const connections = new Set<ClientConnection>();
  /** accepted sockets not yet served: waiting for their first byte or TLS handshake */
  const upgrading = new Set<Socket>();
  let nextId = 1;

  const serve = (socket: Socket, connId: number, via: string) => {
    const connection = new ClientConnection(socket, services, options, logger.child({ connId, via }));
    connections.add(connection);
    socket.once('close', () => connections.delete(connection));
    // Reads were paused while the TLS check looked at the first bytes; a no-op otherwise.
    socket.resume();
  };

  const accept = (socket: Socket, tls: ClientTls | null, via: string) => {
    if (connections.size + upgrading.size >= options.maxConnections) {
      stats.rejectedConnections++;
      socket.destroy();
      return;
    }
    const connId = nextId++;
    stats.currConnections++;
    stats.totalConnections++;
    socket.once('close', () => stats.currConnections--);
    if (!tls) {
      serve(socket, connId, via);
      return;
    }
    upgrading.add(socket);
    // Silence before the first byte or during the handshake counts as silence too.
    const idleMs = options.idleTimeoutMs ?? 0;
    const kick = idleMs > 0 ? setTimeout(() => {
      stats.count('idle_kicks');
      socket.destroy();
    }, idleMs) : null;
    const settled = () => {
      if (kick) clearTimeout(kick);
      upgrading.delete(socket);
    };
    socket.once('close', settled);
    tls.upgrade(socket, (outcome) => {
      settled();
      if (outcome.kind === 'serve') serve(outcome.socket, connId, outcome.socket === socket ? `${via} plain` : `${via} tls`);
      else logger.debug('client connection refused', { connId, reason: outcome.reason });
    });
  };

  const listeners: Array<{ server: Server; path: string | null }> = [];
  const closeListeners = () => Promise.all(listeners.map((l) => closeListener(l.server, l.path)));
  let port = 0;
  try {
    if (options.tcp) {
      const server = createServer({ allowHalfOpen: true }, (socket) => accept(socket, options.tls, 'tcp'));
      listeners.push({ server, path: null });
      port = await listenTcp(server, options.tcp.host, options.tcp.port);
      logger.info('listening', { host: options.tcp.host, port, tls: options.tls ? (options.tls.plainToo ? 'tls and plain' : 'tls only') : 'off' });
    }
    if (options.socket) {
      const server = createServer({ allowHalfOpen: true }, (socket) => accept(socket, null, 'unix'));
      const listener = { server, path: null as string | null };
      listeners.push(listener);
      await listenUnix(server, options.socket.path, options.socket.mode, options.socket.ownsFile);
      // Only once it is ours: a file that start-up refused to replace stays.
      if (options.socket.ownsFile) listener.path = options.socket.path;
      logger.info('listening', { socket: options.socket.path, mode: options.socket.mode.toString(8) });
    }
  } catch (error) {
    await closeListeners();
    throw error;
  }
  for (const { server } of listeners) server.on('error', (error) => logger.error('listener error', { error: error.message }));

  let closing: Promise<void> | null = null;
  return {
    address: () => ({ host: options.tcp?.host ?? '', port, socket: options.socket?.path ?? null }),
    close() {
      closing ??= (async () => {
        const stopped = closeListeners();
        for (const socket of upgrading) socket.destroy();
        await Promise.all([...connections].map((c) => c.shutdown(options.shutdownGraceMs)));
        await stopped;
      })();
      return closing;
    },
  };
}
