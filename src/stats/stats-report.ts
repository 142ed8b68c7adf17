import type { ServerStats } from './server-stats.js';

export interface StatsReportContext {
  stats: ServerStats;
  version: string;
  /** the database's clock (unix seconds), the one clock memgate uses */
  databaseTime: number | null;
  /** listen.maxConnections */
  maxConnections: number;
  /** the item table's estimated live rows and their bytes (item-estimate.ts) */
  items: { rows: number; bytes: number };
  extra: Array<[string, string]>;
}

/**
 * limit_maxbytes: memgate has no memory limit; items live in a table and are never evicted,
 * so tools that read bytes / limit_maxbytes as "memory used" see next to nothing used.
 * Written out because it is beyond a double's exact integers.
 */
export const LIMIT_MAXBYTES = '9223372036854775807';

/**
 * The general `stats` group: every field of memcached 1.6.18's, in its order, then memgate's
 * own (database, coalescing, session locks). Fields about memcached's memory, threads and
 * LRU have no counterpart in a gateway and are 0; see docs/observability.md.
 */
export function generalStats(ctx: StatsReportContext): Array<[string, string]> {
  const { stats } = ctx;
  const usage = process.resourceUsage();
  const seconds = (micros: number) => (micros / 1e6).toFixed(6);
  const now = ctx.databaseTime ?? Math.floor(Date.now() / 1000);
  const zero = (...names: string[]): Array<[string, number]> => names.map((name) => [name, 0]);
  const entries: Array<[string, string | number]> = [
    ['pid', process.pid],
    ['uptime', Math.floor((Date.now() - stats.startedAt) / 1000)],
    ['time', now],
    ['version', ctx.version],
    ['libevent', `node-${process.versions.node}`],
    ['pointer_size', 64],
    ['rusage_user', seconds(usage.userCPUTime)],
    ['rusage_system', seconds(usage.systemCPUTime)],
    ['max_connections', ctx.maxConnections],
    ['curr_connections', stats.currConnections],
    ['total_connections', stats.totalConnections],
    ['rejected_connections', stats.rejectedConnections],
    ['connection_structures', stats.currConnections],
    ...zero('response_obj_oom', 'response_obj_count', 'response_obj_bytes', 'read_buf_count', 'read_buf_bytes',
      'read_buf_bytes_free', 'read_buf_oom', 'reserved_fds'),
    ...Object.entries(stats.counters).filter(([name]) => name !== 'idle_kicks' || stats.reportsIdleKicks),
    ['limit_maxbytes', LIMIT_MAXBYTES],
    ['accepting_conns', stats.currConnections < ctx.maxConnections ? 1 : 0],
    // memgate refuses connections over the limit instead of pausing accept().
    ...zero('listen_disabled_num', 'time_in_listen_disabled_us'),
    ['threads', 1],
    ...zero('conn_yields', 'hash_power_level', 'hash_bytes', 'hash_is_expanding', 'slab_reassign_rescues',
      'slab_reassign_chunk_rescues', 'slab_reassign_evictions_nomem', 'slab_reassign_inline_reclaim',
      'slab_reassign_busy_items', 'slab_reassign_busy_deletes', 'slab_reassign_running', 'slabs_moved',
      'lru_crawler_running', 'lru_crawler_starts', 'lru_maintainer_juggles', 'malloc_fails', 'log_worker_dropped',
      'log_worker_written', 'log_watcher_skipped', 'log_watcher_sent', 'log_watchers', 'unexpected_napi_ids',
      'round_robin_fallback'),
    ['bytes', ctx.items.bytes],
    ['curr_items', ctx.items.rows],
    ['total_items', stats.totalItems],
    ['slab_global_page_pool', 0],
    ...zero('expired_unfetched', 'evicted_unfetched', 'evicted_active'),
    // Rows are never evicted; they leave by expiry, delete or flush only.
    ['evictions', 0],
    ...zero('reclaimed', 'crawler_reclaimed', 'crawler_items_checked', 'lrutail_reflocked', 'moves_to_cold',
      'moves_to_warm', 'moves_within_lru', 'direct_reclaims', 'lru_bumps_dropped'),
    ...ctx.extra,
  ];
  return entries.map(([k, v]) => [k, String(v)]);
}
