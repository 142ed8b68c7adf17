import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'winston';
import { ClientConnection, type ConnectionOptions, type ConnectionServices } from './connection.js';

export interface GatewayServerOptions extends ConnectionOptions {
  host: string;
  port: number;
  maxConnections: number;
  shutdownGraceMs: number;
}

export interface GatewayServer {
  address(): { host: string; port: number };
  close(): Promise<void>;
}

/** Listens, tracks its connections and, on close, stops accepting and drains them. */
export async function startServer(
  options: GatewayServerOptions,
  services: ConnectionServices,
  logger: Logger,
): Promise<GatewayServer> {
  const { stats } = services;
  const connections = new Set<ClientConnection>();
  let nextId = 1;
  const server: Server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
    if (connections.size >= options.maxConnections) {
      stats.rejectedConnections++;
      socket.destroy();
      return;
    }
    const connId = nextId++;
    const connection = new ClientConnection(socket, services, options, logger.child({ connId }));
    connections.add(connection);
    stats.currConnections++;
    stats.totalConnections++;
    socket.once('close', () => {
      connections.delete(connection);
      stats.currConnections--;
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error('listener error', { error: error.message }));
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : options.port;
  logger.info('listening', { host: options.host, port });

  let closing: Promise<void> | null = null;
  return {
    address: () => ({ host: options.host, port }),
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...connections].map((c) => c.shutdown(options.shutdownGraceMs)));
        await stopped;
      })();
      return closing;
    },
  };
}
