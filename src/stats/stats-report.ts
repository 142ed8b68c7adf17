import type { ServerStats } from './server-stats.js';

export interface StatsReportContext {
  stats: ServerStats;
  version: string;
  /** the database's clock (unix seconds), the one clock memgate uses */
  databaseTime: number | null;
  extra: Array<[string, string]>;
}

/** The general `stats` group, with memcached's field names and order where they apply. */
export function generalStats(ctx: StatsReportContext): Array<[string, string]> {
  const { stats } = ctx;
  const usage = process.resourceUsage();
  const seconds = (micros: number) => (micros / 1e6).toFixed(6);
  const now = ctx.databaseTime ?? Math.floor(Date.now() / 1000);
  const entries: Array<[string, string | number]> = [
    ['pid', process.pid],
    ['uptime', Math.floor((Date.now() - stats.startedAt) / 1000)],
    ['time', now],
    ['version', ctx.version],
    ['pointer_size', 64],
    ['rusage_user', seconds(usage.userCPUTime)],
    ['rusage_system', seconds(usage.systemCPUTime)],
    ['curr_connections', stats.currConnections],
    ['total_connections', stats.totalConnections],
    ['rejected_connections', stats.rejectedConnections],
    ...Object.entries(stats.counters).filter(([name]) => name !== 'idle_kicks' || stats.reportsIdleKicks),
    ['threads', 1],
    // Rows are never evicted; they leave by expiry, delete or flush only.
    ['evictions', 0],
    ...ctx.extra,
  ];
  return entries.map(([k, v]) => [k, String(v)]);
}
