import type { WorkerIdentity } from '../cluster/worker.js';
import type { CoalescingStore } from '../store/coalescing-store.js';
import type { DatabaseHealth, DatabasePool } from '../store/pool.js';
import type { SessionLocks } from '../store/session-locks.js';
import { databaseNow } from '../store/sql/database-clock.js';
import type { ItemEstimate } from './item-estimate.js';
import type { ServerStats } from './server-stats.js';
import { itemsStats, slabsStats } from './slab-report.js';
import { generalStats } from './stats-report.js';

/** The `stats` groups that read the gateway's state (settings and reset are answered elsewhere). */
export type StatsGroup = 'general' | 'items' | 'slabs';

export interface GatewayStatsSources {
  stats: ServerStats;
  version: string;
  maxConnections: number;
  itemSizeMax: number;
  pool: DatabasePool;
  items: ItemEstimate;
  coalescing: CoalescingStore | null;
  locks: SessionLocks | null;
  /** set when --workers runs more than one process */
  worker?: WorkerIdentity;
}

/**
 * What `stats`, `stats items` and `stats slabs` report for one gateway. Registers the
 * counters kept outside ServerStats, so that `stats reset` clears them too.
 */
export function gatewayStats(sources: GatewayStatsSources): (group: StatsGroup) => Promise<Array<[string, string]>> {
  const { stats, pool, coalescing, locks } = sources;
  stats.trackExternal(() => {
    const { perNode, totals } = databaseCounters(pool.health());
    return [...perNode, ...totals, ...coalescingCounters(coalescing), ...lockCounters(locks)];
  });
  return async (group) => {
    if (group === 'items') return itemsStats({ stats, items: await sources.items.current(), itemSizeMax: sources.itemSizeMax });
    if (group === 'slabs') return slabsStats({ stats, items: await sources.items.current(), itemSizeMax: sources.itemSizeMax });
    const [items, databaseTime] = await Promise.all([sources.items.current(), pool.withConnection(databaseNow).catch(() => null)]);
    return generalStats({
      stats,
      version: sources.version,
      databaseTime,
      maxConnections: sources.maxConnections,
      items,
      extra: [
        // Only with workers: a lone gateway's stats have memcached's names and nothing else.
        ...(sources.worker ? [['worker_id', String(sources.worker.id)], ['workers', String(sources.worker.count)]] as Array<[string, string]> : []),
        ...databaseStats(pool, stats),
        ...counterLines(coalescingCounters(coalescing), stats),
        ...counterLines(lockCounters(locks), stats),
      ],
    });
  };
}

/** Per-node health as memcached-style stats lines (names in README "Running several gateways"). */
function databaseStats(pool: DatabasePool, stats: ServerStats): Array<[string, string]> {
  const health = pool.health();
  const { perNode, totals } = databaseCounters(health);
  const lines: Array<[string, string]> = [
    ['db_up', pool.down ? '0' : '1'],
    ['db_nodes', String(health.nodes.length)],
    ['db_writer', String(health.writer)],
  ];
  health.nodes.forEach((node, i) => {
    lines.push([`db_node_${i}_address`, node.address], [`db_node_${i}_state`, node.up ? 'up' : 'down'], ...counterLines([perNode[i]!], stats));
  });
  return [...lines, ...counterLines(totals, stats)];
}

/** The pool's counters, which `stats reset` clears (its gauges, such as db_up, it does not). */
function databaseCounters(health: DatabaseHealth): { perNode: Array<[string, number]>; totals: Array<[string, number]> } {
  return {
    perNode: health.nodes.map((node, i) => [`db_node_${i}_downs`, node.downs]),
    totals: [['db_failovers', health.failovers], ['db_retries', health.retries], ['db_unknown_outcomes', health.unknownOutcomes]],
  };
}

function coalescingCounters(coalescing: CoalescingStore | null): Array<[string, number]> {
  if (!coalescing) return [];
  const { counts } = coalescing;
  return [
    ['coalesce_read_batches', counts.readBatches],
    ['coalesce_read_keys', counts.readKeys],
    ['coalesce_write_batches', counts.writeBatches],
    ['coalesce_write_sets', counts.writeSets],
  ];
}

/** What happened to session locks through this gateway (docs/php-sessions.md names them). */
function lockCounters(locks: SessionLocks | null): Array<[string, number]> {
  if (!locks) return [];
  const { counts } = locks;
  return [
    ['session_locks_taken', counts.taken],
    ['session_locks_taken_over', counts.takenOver],
    ['session_locks_busy', counts.busy],
    ['session_locks_released', counts.released],
    ['session_locks_released_on_close', counts.releasedOnClose],
    ['session_locks_refused_releases', counts.refusedReleases],
    ['session_data_copies_skipped', counts.skippedCopies],
  ];
}

function counterLines(counters: Array<[string, number]>, stats: ServerStats): Array<[string, string]> {
  return counters.map(([name, value]) => [name, String(stats.sinceReset(name, value))]);
}
