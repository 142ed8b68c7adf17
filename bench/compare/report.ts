// The comparison's table: one row per (workload, connections, target, depth), memgate's
// ratios to raw SQL and to memcached, and the targets checked against them.
import type { LoadResult, Workload } from './load.js';

export type TargetName = 'raw-sql' | 'memgate-text' | 'memgate-binary' | 'memcached-text' | 'memcached-binary';

export const TARGET_NAMES: readonly TargetName[] = ['raw-sql', 'memgate-text', 'memgate-binary', 'memcached-text', 'memcached-binary'];

export interface Cell extends LoadResult {
  workload: Workload;
  connections: number;
  target: TargetName;
  /** Requests outstanding per connection (raw SQL: callers per pool connection). */
  depth: number;
  /**
   * CPU used during the cell (warm-up included), in % of one core: the server (memgate or
   * memcached; null for raw SQL), MariaDB, and the load generator (its process).
   */
  cpuPercent?: { server: number | null; database: number | null; generator: number };
  /** memgate: keys per merged read and sets per merged write during the cell (null: none ran). */
  merged?: { keysPerRead: number | null; setsPerWrite: number | null };
}

export interface CellRow extends Cell {
  /** memgate rows: ops/s over raw SQL's at the same workload, connections and depth. */
  vsRawSql: number | null;
  /** memgate rows: ops/s over memcached's (same protocol if measured, else text), same depth. */
  vsMemcached: number | null;
  /** memgate rows: p50 minus raw SQL's p50, ms. */
  p50OverRawSqlMs: number | null;
}

const isMemgate = (target: TargetName) => target.startsWith('memgate-');

/** The cell of a target at a workload, connection count and depth, if the run measured it. */
function findCell<C extends Cell>(cells: readonly C[], target: TargetName, workload: Workload, connections: number, depth: number): C | undefined {
  return cells.find((c) => c.target === target && c.workload === workload && c.connections === connections && c.depth === depth);
}

export function withRatios(cells: readonly Cell[]): CellRow[] {
  return cells.map((cell) => {
    if (!isMemgate(cell.target)) return { ...cell, vsRawSql: null, vsMemcached: null, p50OverRawSqlMs: null };
    const find = (target: TargetName) => findCell(cells, target, cell.workload, cell.connections, cell.depth);
    const raw = find('raw-sql');
    const memcached = find(cell.target === 'memgate-binary' ? 'memcached-binary' : 'memcached-text') ?? find('memcached-text');
    return {
      ...cell,
      vsRawSql: raw && raw.opsPerSecond > 0 ? cell.opsPerSecond / raw.opsPerSecond : null,
      vsMemcached: memcached && memcached.opsPerSecond > 0 ? cell.opsPerSecond / memcached.opsPerSecond : null,
      p50OverRawSqlMs: raw ? cell.p50Ms - raw.p50Ms : null,
    };
  });
}

export interface TargetCheck {
  description: string;
  target: TargetName;
  measured: number | null;
  required: string;
  /** null: the cells it needs were not part of this run */
  met: boolean | null;
}

/**
 * The targets: at 16 connections get ≥ 1.5× and set ≥ 1.0× raw SQL's ops/s, at every
 * depth measured, against raw SQL's best at 16 connections over all depths: the MySQL protocol
 * cannot pipeline, so more callers per connection only queue in mysql2, and raw SQL's rows of
 * different depths differ by noise and queueing; a deep memgate row must not be flattered by
 * the slowest of them. At 1 connection p50 within 0.2 ms of raw SQL's, per workload, closed
 * loop (depth 1: latency with requests queued behind it means little).
 */
export function checkTargets(rows: readonly CellRow[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const memgateTargets = TARGET_NAMES.filter((t) => isMemgate(t) && rows.some((r) => r.target === t));
  const depths = [...new Set(rows.map((r) => r.depth))].sort((a, b) => a - b);
  const rawBest = (workload: Workload): number | null => {
    const ops = rows.filter((r) => r.target === 'raw-sql' && r.workload === workload && r.connections === 16)
      .map((r) => r.opsPerSecond);
    return ops.length > 0 ? Math.max(...ops) : null;
  };
  const throughputTargets = [['get', 1.5, rawBest('get')], ['set', 1.0, rawBest('set')]] as const;
  for (const target of memgateTargets) {
    for (const depth of depths) {
      for (const [workload, factor, best] of throughputTargets) {
        const r = findCell(rows, target, workload, 16, depth);
        // best 0: every raw SQL cell failed, so there is nothing to compare with
        const measured = r && best ? r.opsPerSecond / best : null;
        checks.push({
          description: `${workload} at 16 connections, depth ${depth}, ops/s vs raw SQL's best`,
          target,
          measured,
          required: `>= ${factor.toFixed(1)}x`,
          met: measured === null ? null : measured >= factor,
        });
      }
    }
    for (const workload of ['get', 'set', 'mix'] as const) {
      const r = findCell(rows, target, workload, 1, 1);
      if (!r && !rows.some((x) => x.workload === workload)) continue;
      const measured = r?.p50OverRawSqlMs ?? null;
      checks.push({
        description: `${workload} at 1 connection, depth 1, p50 minus raw SQL's p50`,
        target,
        measured,
        required: '<= 0.200 ms',
        met: measured === null ? null : measured <= 0.2,
      });
    }
  }
  return checks;
}

export function fixed(value: number | null, digits: number): string {
  return value === null || Number.isNaN(value) ? '-' : value.toFixed(digits);
}

export function table(header: string[], lines: string[][], rightAligned: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) =>
    cells.map((c, i) => (rightAligned[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(format)].join('\n');
}

export function formatRows(rows: readonly CellRow[]): string {
  const header = ['workload', 'conns', 'target', 'depth', 'ops/s', 'p50 ms', 'p99 ms', 'x raw-sql', 'x memcached', 'errors', '%cpu srv/db/gen', 'merged r/w'];
  const cpu = (r: CellRow) => {
    if (!r.cpuPercent) return '-';
    const { server, database, generator } = r.cpuPercent;
    return [server, database, generator].map((v) => fixed(v, 0)).join('/');
  };
  const merged = (r: CellRow) => (r.merged ? `${fixed(r.merged.keysPerRead, 1)}/${fixed(r.merged.setsPerWrite, 1)}` : '-');
  const lines = rows.map((r) => [
    r.workload,
    String(r.connections),
    r.target,
    String(r.depth),
    r.opsPerSecond.toFixed(0),
    fixed(r.p50Ms, 3),
    fixed(r.p99Ms, 3),
    fixed(r.vsRawSql, 2),
    fixed(r.vsMemcached, 3),
    String(r.errors),
    cpu(r),
    merged(r),
  ]);
  return table(header, lines, [false, true, false, true, true, true, true, true, true, true, true, true]);
}

export function formatTargets(checks: readonly TargetCheck[]): string {
  const header = ['target', 'gateway', 'measured', 'required', 'met'];
  const lines = checks.map((c) => [
    c.description,
    c.target,
    c.measured === null ? 'not measured' : c.description.includes('p50') ? `${c.measured >= 0 ? '+' : ''}${c.measured.toFixed(3)} ms` : `${c.measured.toFixed(2)}x`,
    c.required,
    c.met === null ? '-' : c.met ? 'yes' : 'NO',
  ]);
  return table(header, lines, [false, false, true, false, false]);
}
