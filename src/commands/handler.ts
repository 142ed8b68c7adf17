import type { Logger } from 'winston';
import type { Request, RequestKind } from '../model/request.js';
import type { Response } from '../model/response.js';
import type { ServerStats } from '../stats/server-stats.js';
import type { KvStore } from '../store/kv-store.js';

export interface CommandSettings {
  version: string;
  flushEnabled: boolean;
  /** settings reported by `stats settings` */
  report: Array<[string, string]>;
}

/** What a handler may use: no sockets, no framing, no wire bytes. */
export interface CommandContext {
  store: KvStore;
  stats: ServerStats;
  settings: CommandSettings;
  logger: Logger;
  /** extra general stats lines (e.g. database health) */
  extraStats(): Promise<Array<[string, string]>>;
  databaseTime(): Promise<number | null>;
}

export interface CommandHandler<K extends RequestKind> {
  kind: K;
  execute(request: Extract<Request, { kind: K }>, ctx: CommandContext): Promise<Response>;
}

export type AnyCommandHandler = { [K in RequestKind]: CommandHandler<K> }[RequestKind];
