import type { Logger } from 'winston';
import type { DatabaseEndpoint } from './db-url.js';
import { DatabaseUnavailableError } from './errors.js';
import { NodePool, describe, type DownCause } from './node-pool.js';
import type { SqlSession } from './sql-session.js';

export type Connection = SqlSession;

/** 'read': a plain read, which db.reads=spread may send to any healthy node. */
export type Intent = 'read' | 'write';

export type ReadPolicy = 'writer' | 'spread';

export interface DatabasePoolOptions {
  /** the SQL nodes in order of preference */
  endpoints: DatabaseEndpoint[];
  /** connections per node */
  size: number;
  acquireTimeoutMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** a command that gets no answer from the database this long fails with SERVER_ERROR */
  statementTimeoutMs: number;
  reads?: ReadPolicy;
  /** wsrep_sync_wait for sessions on Galera nodes; 0 leaves the server's setting */
  wsrepSyncWait?: number;
}

export interface NodeHealth {
  address: string;
  up: boolean;
  downs: number;
  /** sessions lent out, idle in the pool, and callers queued for one */
  inUse: number;
  idle: number;
  waiting: number;
}

export type FailoverCause = DownCause | 'failback';

export interface DatabaseHealth {
  nodes: NodeHealth[];
  /** index of the node writes go to, -1 when none is healthy */
  writer: number;
  /** times writes moved to another node */
  failovers: number;
  /**
   * the same moves by cause: the writer's DownCause when writes left it, 'failback' when they
   * returned to a node earlier in db.url that is healthy again
   */
  failoversByCause: Record<FailoverCause, number>;
  /** attempts run again after a failure the retry policy allows */
  retries: number;
  /** commands answered SERVER_ERROR because a lost connection left their outcome unknown */
  unknownOutcomes: number;
}

export interface DatabasePool {
  /** Runs fn on a session of the node the intent goes to; a broken session is not reused. */
  withConnection<T>(fn: (connection: Connection) => Promise<T>, intent?: Intent): Promise<T>;
  /** true while no node is healthy */
  readonly down: boolean;
  /** counted by the retry policy, reported in stats */
  readonly counters: { retries: number; unknownOutcomes: number };
  health(): DatabaseHealth;
  close(): Promise<void>;
}

/**
 * The SQL nodes of db.url with one writer at a time: every command goes to the first healthy
 * node in the configured order, so that on Galera two gateways do not write the same rows
 * through different nodes (certification conflicts). When it fails the next healthy node takes
 * over; when an earlier node is healthy again, writes move back to it. With reads=spread, plain
 * reads rotate over the healthy nodes (Galera's wsrep_sync_wait keeps them from being stale).
 */
export function createDatabasePool(options: DatabasePoolOptions, logger: Logger): DatabasePool {
  if (options.endpoints.length === 0) throw new Error('db.url: no database node configured');
  const nodes = options.endpoints.map((endpoint, index) => new NodePool({
    index,
    endpoint,
    size: options.size,
    acquireTimeoutMs: options.acquireTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    statementTimeoutMs: options.statementTimeoutMs,
    wsrepSyncWait: options.wsrepSyncWait ?? 1,
  }, logger));
  const spread = options.reads === 'spread' && nodes.length > 1;
  let writer = 0;
  let failovers = 0;
  const failoversByCause: Record<FailoverCause, number> = { connection: 0, timeout: 0, not_ready: 0, failback: 0 };
  let nextReader = 0;
  const counters = { retries: 0, unknownOutcomes: 0 };

  const pickWriter = (): NodePool | null => {
    const index = nodes.findIndex((node) => node.up);
    if (index < 0) return null;
    if (index !== writer) {
      const cause: FailoverCause = index < writer ? 'failback' : nodes[writer]!.downCause;
      logger.warn('database writer moved', { from: writer, to: index, address: nodes[index]!.address, cause });
      writer = index;
      failovers++;
      failoversByCause[cause]++;
    }
    return nodes[index]!;
  };

  const pickReader = (): NodePool | null => {
    for (let tried = 0; tried < nodes.length; tried++) {
      const node = nodes[nextReader++ % nodes.length]!;
      if (node.up) return node;
    }
    return null;
  };

  return {
    get down() {
      return nodes.every((node) => !node.up);
    },
    counters,
    withConnection(fn, intent = 'write') {
      const node = intent === 'read' && spread ? pickReader() : pickWriter();
      if (!node) return Promise.reject(allDown(nodes));
      return node.withSession(fn);
    },
    health() {
      const current = nodes.findIndex((node) => node.up);
      return {
        nodes: nodes.map((node) => ({ address: node.address, up: node.up, downs: node.downs, ...node.usage() })),
        writer: current,
        failovers,
        failoversByCause: { ...failoversByCause },
        retries: counters.retries,
        unknownOutcomes: counters.unknownOutcomes,
      };
    },
    async close() {
      await Promise.all(nodes.map((node) => node.close()));
    },
  };
}

function allDown(nodes: NodePool[]): DatabaseUnavailableError {
  // One node: the message is just the cause of its outage; several: each node's address and cause.
  const causes = nodes.map((node) => (nodes.length === 1 ? describe(node.error) : `${node.address}: ${describe(node.error)}`));
  return new DatabaseUnavailableError(`database unavailable (${causes.join('; ')})`, { maybeApplied: false });
}
