// What the session benchmark prints: the machine, one row per cell, each failing cell's
// messages, and the goals (memgate against PdoSessionHandler and Redis-always); and the JSON
// report it writes.
import { fixed, table } from '../compare/report.js';
import type { IdMode, StoreName, Transport } from './options.js';
import { fsyncsPerView, type SessionCell } from './stats.js';

export interface SessionMachine {
  cpus: number;
  cpuModel: string | null;
  loadAvgBefore: number[];
  loadAvgAfter: number[];
  node: string;
  php: string | null;
  mariadb: string;
  memcached: string | null;
  redis: string | null;
  /** git describe of the gateway measured; -dirty: built from uncommitted changes. */
  memgateCommit: string | null;
}

export interface Goal {
  description: string;
  /** A ratio (x) or a difference in ms. */
  measured: number | null;
  unit: 'x' | 'ms';
  required: string;
  /** null: the cells it needs were not part of this run, or failed */
  met: boolean | null;
}

export interface SessionReport {
  generatedAt: string;
  machine: SessionMachine;
  settings: Record<string, unknown>;
  cells: SessionCell[];
  goals: Goal[];
  notes: string[];
}

function findCell(cells: readonly SessionCell[], store: StoreName, procs: number, ids: IdMode): SessionCell | undefined {
  return cells.find((c) => c.store === store && c.procs === procs && c.ids === ids);
}

const GOAL_PROCS = [8, 32];
const RATIO_GOALS = [['pdo', 'PdoSessionHandler', 1.2], ['redis-always', 'Redis always', 1.5]] as const;

/**
 * The goals, on distinct ids (one shared id measures how each handler waits for a
 * lock, not the store): at 8 and 32 processes memgate's views/s ≥ 1.2× PdoSessionHandler's
 * and ≥ 1.5× Redis-always's, and its p99 no worse than PdoSessionHandler's.
 */
export function checkGoals(cells: readonly SessionCell[]): Goal[] {
  const goals: Goal[] = [];
  for (const procs of GOAL_PROCS) {
    const memgate = findCell(cells, 'memgate', procs, 'distinct');
    for (const [store, label, factor] of RATIO_GOALS) {
      const other = findCell(cells, store, procs, 'distinct');
      const measured = memgate && other && other.viewsPerSecond > 0 ? memgate.viewsPerSecond / other.viewsPerSecond : null;
      goals.push({
        description: `${procs} processes, distinct ids: memgate views/s vs ${label}`,
        measured, unit: 'x', required: `>= ${factor.toFixed(1)}x`, met: measured === null ? null : measured >= factor,
      });
    }
    const pdo = findCell(cells, 'pdo', procs, 'distinct');
    const measured = memgate && pdo && memgate.views > 0 && pdo.views > 0 ? memgate.p99Ms - pdo.p99Ms : null;
    goals.push({
      description: `${procs} processes, distinct ids: memgate p99 minus PdoSessionHandler's`,
      measured, unit: 'ms', required: '<= 0 ms', met: measured === null ? null : measured <= 0,
    });
  }
  return goals;
}

/** Per-view figures of a counter, '-' where the store does not use MariaDB. */
function dbFigure(cell: SessionCell, pick: (db: NonNullable<SessionCell['dbPerView']>) => number[], digits: number): string {
  return cell.dbPerView ? pick(cell.dbPerView).map((v) => fixed(v, digits)).join('/') : '-';
}

export function formatCells(cells: readonly SessionCell[]): string {
  const header = ['store', 'procs', 'ids', 'views/s', 'p50 ms', 'p99 ms', 'failures', 'lost', 'fsync/view', 'commit/view', 'ins/upd/del/sel per view', 'cpu us/view srv/db/php'];
  const lines = cells.map((c) => [
    c.store,
    String(c.procs),
    c.ids,
    c.viewsPerSecond.toFixed(0),
    fixed(c.p50Ms, 2),
    fixed(c.p99Ms, 2),
    String(c.failures + c.brokenWorkers),
    c.ids === 'shared' ? fixed(c.lostIncrements, 0) : '-',
    dbFigure(c, (d) => [fsyncsPerView(d).value], 2),
    dbFigure(c, (d) => [d.Handler_commit], 2),
    dbFigure(c, (d) => [d.Com_insert, d.Com_update, d.Com_delete, d.Com_select], 2),
    [c.cpuUsPerView.server, c.cpuUsPerView.database, c.cpuUsPerView.php].map((v) => fixed(v, 0)).join('/'),
  ]);
  return table(header, lines, [false, true, false, true, true, true, true, true, true, true, true, true]);
}

/** Each cell with failures: its processes' problems and the most frequent warnings. */
export function formatFailures(cells: readonly SessionCell[]): string[] {
  return cells.flatMap((c) => {
    const name = `${c.store} ${c.procs} ${c.ids}`;
    const lines: string[] = [];
    if (c.brokenWorkers > 0) lines.push(`  ${name}: ${c.brokenWorkers} PHP processes gave no result; first: ${c.firstProblem}`);
    else if (c.firstProblem) lines.push(`  ${name}: ${c.firstProblem}`);
    for (const [message, count] of Object.entries(c.failureMessages)) lines.push(`  ${name}: ${count}x ${message.slice(0, 300)}`);
    return lines;
  });
}

export function formatGoals(goals: readonly Goal[]): string {
  const lines = goals.map((g) => [
    g.description,
    g.measured === null ? 'not measured' : g.unit === 'x' ? `${g.measured.toFixed(2)}x` : `${g.measured >= 0 ? '+' : ''}${g.measured.toFixed(2)} ms`,
    g.required,
    g.met === null ? '-' : g.met ? 'yes' : 'NO',
  ]);
  return table(['goal', 'measured', 'required', 'met'], lines, [false, true, false, false]);
}

/** The lines above the table: the machine, the run, and how to read the columns. */
export function formatHeader(
  machine: SessionMachine, settings: { seconds: number; warmupSeconds: number; transport: Transport }, cells: readonly SessionCell[],
): string {
  const versions = [
    `node ${machine.node}`, `PHP ${machine.php ?? '?'}`, `MariaDB ${machine.mariadb}`, machine.memcached ?? 'memcached -', `Redis ${machine.redis ?? '-'}`,
  ].join(', ');
  const dbCell = cells.find((c) => c.dbPerView !== null);
  const fsyncCounter = dbCell ? fsyncsPerView(dbCell.dbPerView!).counter : 'Innodb_os_log_fsyncs';
  return [
    `PHP sessions: memgate vs memcached, Redis and PdoSessionHandler — ${machine.cpus} CPUs (${machine.cpuModel ?? '?'}), ${versions}, memgate ${machine.memgateCommit ?? '?'}`,
    `${settings.seconds} s per cell after ${settings.warmupSeconds} s warm-up; a view = session_id(); session_start(); n++; 1 KB blob; session_write_close(); ${
      settings.transport === 'unix' ? 'every store on a unix socket, memgate and PDO to MariaDB through its socket' : 'every store on 127.0.0.1 TCP, memgate and PDO to MariaDB too'
    }, MariaDB with innodb_flush_log_at_trx_commit=1`,
    'memcached/memgate: php-memcached defaults (binary protocol, locking on); redis-*: phpredis, locking_enabled=1, AOF appendfsync always / everysec; pdo: Symfony PdoSessionHandler (LOCK_TRANSACTIONAL) on the same MariaDB',
    'ids: distinct = each process rotates over its own ids; shared = every process on one id. Stores take turns in a random order per workload',
    'failures = timed views with session_start() false or a PHP warning; lost = increments made minus n read back (shared id)',
    `per view (warm-up included): fsync = ${fsyncCounter}, commit = Handler_commit, ins/upd/del/sel = Com_*; cpu us = CPU of the store\'s server (memgate, memcached, redis), MariaDB, and the PHP processes`,
    `load average before: ${machine.loadAvgBefore.map((l) => l.toFixed(2)).join(' ')}, after: ${machine.loadAvgAfter.map((l) => l.toFixed(2)).join(' ')}`,
  ].join('\n');
}
