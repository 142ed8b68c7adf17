import type { Logger } from 'winston';
import type { Request, RequestKind } from '../model/request.js';
import type { Response } from '../model/response.js';
import type { StatsGroup } from '../stats/gateway-stats.js';
import type { ServerStats } from '../stats/server-stats.js';
import type { BatchPolicy } from '../store/batch-policy.js';
import type { KvStore } from '../store/kv-store.js';
import type { SessionLocks } from '../store/session-locks.js';
import type { SessionKeys } from './lock-keys.js';

export interface CommandSettings {
  version: string;
  flushEnabled: boolean;
  /** settings reported by `stats settings` */
  report: Array<[string, string]>;
}

/** Session locks (sessions.locks): which keys are locks and session data, and where locks are held. */
export interface SessionLockService extends SessionKeys {
  locks: SessionLocks;
  /** how long an add of a held lock waits for its release (sessions.lockWaitMs) */
  waitMs: number;
}

/** The client connection a request came from, as the commands know it. */
export interface ClientSession {
  /** unique within this gateway process */
  id: number;
  /**
   * session locks it may hold: counted before a take is sent (a take whose outcome was lost
   * still counts), down when a take is refused or a release succeeds. When it closes with
   * any, they are released.
   */
  locks: number;
  /** the lock keys (mapKey) it holds for certain: its writes of their sessions' data are not checked */
  held: Set<string>;
}

/** What every connection's handlers share. */
export interface SharedContext {
  store: KvStore;
  /** null: sessions.locks off, every key has plain memcached semantics */
  sessionLocks: SessionLockService | null;
  stats: ServerStats;
  settings: CommandSettings;
  logger: Logger;
  /** the lines of a `stats` group that reads the gateway's state (src/stats/gateway-stats.ts) */
  statsGroup(group: StatsGroup): Promise<Array<[string, string]>>;
}

/** What a handler may use: no sockets, no framing, no wire bytes. */
export interface CommandContext extends SharedContext {
  client: ClientSession;
}

export type RequestOf<K extends RequestKind> = Extract<Request, { kind: K }>;

/** How long a connection's pipelined run may be (batch-policy.ts, level 1). */
export type RunLimits = BatchPolicy['run'];

/**
 * Answers a run of pipelined requests of one kind with one store call. Only requests for which
 * joins() holds are run together; any other request runs alone through execute().
 */
export interface BatchExecutor<K extends RequestKind> {
  joins(request: RequestOf<K>): boolean;
  /** A run that starts with `first`; add() takes the next request when it still fits the limits. */
  startRun(first: RequestOf<K>, limits: RunLimits): { add(next: RequestOf<K>): boolean };
  /** One response per request, in order. */
  execute(requests: Array<RequestOf<K>>, ctx: CommandContext): Promise<Response[]>;
}

export interface CommandHandler<K extends RequestKind> {
  execute(request: RequestOf<K>, ctx: CommandContext): Promise<Response>;
  batch?: BatchExecutor<K>;
}

/** Every request kind has its handler: a kind without one does not compile. */
export type CommandRegistry = { readonly [K in RequestKind]: CommandHandler<K> };
