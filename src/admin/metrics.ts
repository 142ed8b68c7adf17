import { collectDefaultMetrics, Counter, Gauge, type Registry } from 'prom-client';
import type { ServerStats } from '../stats/server-stats.js';
import type { CoalescingStore } from '../store/coalescing-store.js';
import type { DatabasePool } from '../store/pool.js';
import type { SessionLocks } from '../store/session-locks.js';
import type { SweeperCounts } from '../sweeper/periodic-sweeper.js';
import { CommandMetrics } from './command-metrics.js';
import { FastHistogram, LATENCY_BUCKETS, type HistogramSeries } from './fast-histogram.js';

/** What the gauges and counters read when scraped; nothing here is touched per request. */
export interface MetricSources {
  stats: ServerStats;
  pool: DatabasePool;
  coalescing: CoalescingStore | null;
  locks: SessionLocks | null;
  /** session locks the open client connections hold (or are taking) now */
  locksHeld: () => number;
  /** the expiry sweeper's counts, null while sweeper.interval is 0 */
  sweeper: () => SweeperCounts | null;
}

/** Time of one unit of database work: observed by timed-pool.ts, which needs it before the stores exist. */
export function statementHistogram(registry: Registry): HistogramSeries {
  return new FastHistogram({
    name: 'memgate_db_statement_duration_seconds',
    help: 'Time the database took for one unit of work of a command (one statement, or one short transaction), from a pooled connection being handed over to its result.',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }).child('');
}

/**
 * Every other metric family of one gateway, in the gateway's own registry (nothing goes to
 * prom-client's global one); docs/observability.md lists them. The counts per command are
 * the returned CommandMetrics' to keep.
 */
export function registerGatewayMetrics(registry: Registry, sources: MetricSources): CommandMetrics {
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const { stats, pool } = sources;

  new Gauge({
    name: 'memgate_client_connections', help: 'Client connections open now.', registers,
    collect() {
      this.set(stats.currConnections);
    },
  });
  counterOf(registers, 'memgate_client_connections_accepted_total', 'Client connections accepted.', () => stats.accepted);
  counterOf(registers, 'memgate_client_connections_refused_total', 'Client connections refused at listen.maxConnections.', () => stats.refused);
  counterOf(registers, 'memgate_items_stored_total', 'Items stored through this gateway (total_items of stats, without resets).', () => stats.itemsStored);

  registerDatabase(registers, pool);
  registerCoalescing(registers, sources.coalescing);
  registerSweeper(registers, sources.sweeper);
  registerSessionLocks(registers, sources.locks, sources.locksHeld);

  return new CommandMetrics(registry);
}

/** A counter whose value is read from its owner at scrape time. */
function counterOf(registers: Registry[], name: string, help: string, read: () => number): void {
  new Counter({
    name, help, registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function registerDatabase(registers: Registry[], pool: DatabasePool): void {
  new Gauge({
    name: 'memgate_db_node_up', help: '1 while the database node (host:port of db.url) is healthy, 0 while it is out of service.',
    // With --workers, the primary's sum over workers would count a node once per worker: a
    // node is up for the gateway while no worker has it out of service.
    aggregator: 'min',
    labelNames: ['node'], registers,
    collect() {
      for (const node of pool.health().nodes) this.set({ node: node.address }, node.up ? 1 : 0);
    },
  });
  new Counter({
    name: 'memgate_db_node_downs_total', help: 'Times the database node was taken out of service (connection lost or refused, statement timeout, Galera not ready).',
    labelNames: ['node'], registers,
    collect() {
      this.reset();
      for (const node of pool.health().nodes) this.inc({ node: node.address }, node.downs);
    },
  });
  new Gauge({
    name: 'memgate_db_pool_connections', help: 'Database connections of the pool by state: in_use (lent to a command), idle, waiting (commands queued for one).',
    labelNames: ['node', 'state'], registers,
    collect() {
      for (const node of pool.health().nodes) {
        this.set({ node: node.address, state: 'in_use' }, node.inUse);
        this.set({ node: node.address, state: 'idle' }, node.idle);
        this.set({ node: node.address, state: 'waiting' }, node.waiting);
      }
    },
  });
  new Counter({
    name: 'memgate_db_failovers_total',
    help: 'Times writes moved to another database node of db.url, by cause: connection (the writer could not be reached), timeout (it did not answer within db.statementTimeoutMs), not_ready (it refused work: Galera not synced, read-only, NDB cluster failure), failback (back to a node earlier in db.url, healthy again).',
    labelNames: ['cause'], registers,
    collect() {
      this.reset();
      for (const [cause, count] of Object.entries(pool.health().failoversByCause)) this.inc({ cause }, count);
    },
  });
  new Counter({
    name: 'memgate_db_retries_total', help: 'Database work run again, by cause: retried (a failure the retry policy allows), unknown_outcome (not retried: a lost connection left unknown whether it applied; the client got SERVER_ERROR).',
    labelNames: ['cause'], registers,
    collect() {
      const health = pool.health();
      this.reset();
      this.inc({ cause: 'retried' }, health.retries);
      this.inc({ cause: 'unknown_outcome' }, health.unknownOutcomes);
    },
  });
}

function registerCoalescing(registers: Registry[], coalescing: CoalescingStore | null): void {
  if (!coalescing) return;
  const { counts } = coalescing;
  counterOf(registers, 'memgate_coalesce_read_batches_total', 'Statements that read the gets of several clients together.', () => counts.readBatches);
  counterOf(registers, 'memgate_coalesce_read_keys_total', 'Keys read by those statements (keys per batch: this over read batches).', () => counts.readKeys);
  counterOf(registers, 'memgate_coalesce_write_batches_total', 'Statements that wrote the sets of several clients together.', () => counts.writeBatches);
  counterOf(registers, 'memgate_coalesce_write_sets_total', 'Sets written by those statements (sets per batch: this over write batches).', () => counts.writeSets);
}

function registerSweeper(registers: Registry[], sweeper: () => SweeperCounts | null): void {
  counterOf(registers, 'memgate_sweeper_passes_total', 'Passes of the expiry sweeper run by this gateway (a pass held by another gateway\'s lease does not count).', () => sweeper()?.passes ?? 0);
  counterOf(registers, 'memgate_sweeper_rows_deleted_total', 'Expired rows the sweeper of this gateway deleted.', () => sweeper()?.rowsDeleted ?? 0);
  new Gauge({
    name: 'memgate_sweeper_last_pass_timestamp_seconds', help: 'Unix time the last sweeper pass of this gateway ended; 0 before the first.', registers,
    aggregator: 'max',
    collect() {
      this.set(sweeper()?.lastPassEnd ?? 0);
    },
  });
}

function registerSessionLocks(registers: Registry[], locks: SessionLocks | null, held: () => number): void {
  if (!locks) return;
  const { counts } = locks;
  new Counter({
    name: 'memgate_session_lock_events_total',
    help: 'Session locks by event: taken, taken_over (freed by the holder gateway\'s liveness running out), busy (held elsewhere), released, released_on_close (the holder disconnected), refused_release (not the holder), data_copy_skipped.',
    labelNames: ['event'], registers,
    collect() {
      this.reset();
      this.inc({ event: 'taken' }, counts.taken);
      this.inc({ event: 'taken_over' }, counts.takenOver);
      this.inc({ event: 'busy' }, counts.busy);
      this.inc({ event: 'released' }, counts.released);
      this.inc({ event: 'released_on_close' }, counts.releasedOnClose);
      this.inc({ event: 'refused_release' }, counts.refusedReleases);
      this.inc({ event: 'data_copy_skipped' }, counts.skippedCopies);
    },
  });
  new Gauge({
    name: 'memgate_session_locks_held', help: 'Session locks held now by the open client connections of this gateway (a take in flight counts).', registers,
    collect() {
      this.set(held());
    },
  });
}
