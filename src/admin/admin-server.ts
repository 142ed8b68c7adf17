import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'winston';
import type { Readiness } from './readiness.js';

export interface MetricsText {
  contentType: string;
  body: string;
}

export interface AdminServerOptions {
  host: string;
  /** 0: a free port (tests) */
  port: number;
  /**
   * The Prometheus text of /metrics. Where it comes from is the caller's business: one
   * gateway's registry, or an aggregate of several processes'.
   */
  metrics: () => Promise<MetricsText>;
  ready: () => Promise<Readiness>;
}

export interface AdminServer {
  address(): { host: string; port: number };
  close(): Promise<void>;
}

/**
 * The admin listener: GET /metrics, /healthz (the process is up and serving HTTP, so its
 * event loop turns), /readyz (200 while the gateway can serve, 503 with a JSON reason while it
 * cannot). Other paths get 404, other methods on these paths 405.
 */
export async function startAdminServer(options: AdminServerOptions, logger: Logger): Promise<AdminServer> {
  let wasReady: boolean | null = null;
  const routes: Record<string, () => Promise<{ status: number; type: string; body: string }>> = {
    '/metrics': async () => {
      const { contentType, body } = await options.metrics();
      return { status: 200, type: contentType, body };
    },
    '/healthz': async () => json(200, { status: 'ok' }),
    '/readyz': async () => {
      const readiness = await options.ready();
      if (readiness.ready !== wasReady) {
        logger.log(readiness.ready ? 'info' : 'warn', readiness.ready ? 'ready: /readyz answers 200' : 'not ready: /readyz answers 503', {
          reason: readiness.reason,
        });
        wasReady = readiness.ready;
      }
      return readiness.ready ? json(200, { status: 'ready' }) : json(503, { status: 'not ready', reason: readiness.reason });
    },
  };

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0]!;
    const route = routes[path];
    if (!route) return send(response, json(404, { status: 'not found', paths: Object.keys(routes) }), request.method === 'HEAD');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return send(response, json(405, { status: 'method not allowed' }), false);
    }
    route().then(
      (reply) => send(response, reply, request.method === 'HEAD'),
      (error: unknown) => {
        logger.error('admin request failed', { path, error: error instanceof Error ? error.stack : String(error) });
        send(response, json(500, { status: 'error' }), false);
      },
    );
  };

  const server = createServer(handle);
  // A scraper or health checker that holds its connection open must not keep a stopping gateway alive.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  logger.info('admin listener on', { host: address, port, paths: Object.keys(routes) });
  return {
    address: () => ({ host: address, port }),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function json(status: number, body: unknown): { status: number; type: string; body: string } {
  return { status, type: 'application/json', body: `${JSON.stringify(body)}\n` };
}

function send(response: ServerResponse, reply: { status: number; type: string; body: string }, headOnly: boolean): void {
  response.writeHead(reply.status, { 'Content-Type': reply.type, 'Content-Length': Buffer.byteLength(reply.body) });
  response.end(headOnly ? undefined : reply.body);
}
