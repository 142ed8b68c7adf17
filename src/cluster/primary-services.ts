import { rm } from 'node:fs/promises';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from 'winston';
import { openDatabasePool, startAdmin } from '../app.js';
import type { GatewayConfig } from '../config/schema.js';
import { Releasers } from '../lifecycle/releasers.js';
import { removeStaleSocket } from '../net/listeners.js';
import type { PrimaryServices } from './primary.js';

/**
 * What the primary of `serve --workers N` owns beside its workers:
 * - the unix socket's file: a stale one is replaced once, before any worker listens (each
 *   worker would otherwise find the others' live socket), and the file goes when all stop;
 * - the admin listener: /metrics sums every worker's registry (prom-client's
 *   AggregatorRegistry asks each worker over the cluster channel), and /readyz probes the
 *   database through a connection of the primary's own.
 */
export function primaryServices(config: GatewayConfig): PrimaryServices {
  return {
    async start(logger: Logger, databaseUrl: string) {
      const releasers = new Releasers();
      try {
        const socket = config.listen.socket;
        if (socket) {
          await removeStaleSocket(socket);
          releasers.push('unix socket file', () => rm(socket, { force: true }));
        }
        if (config.admin.port > 0) {
          const pool = openDatabasePool(config, databaseUrl, 1, logger);
          releasers.push('admin database pool', () => pool.close());
          const aggregator = new AggregatorRegistry();
          const metrics = async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() });
          const admin = await startAdmin(config, pool, metrics, logger);
          releasers.push('admin listener', () => admin.close());
        }
      } catch (error) {
        await releasers.release().catch(() => undefined);
        throw error;
      }
      return { stop: () => releasers.release() };
    },
  };
}
