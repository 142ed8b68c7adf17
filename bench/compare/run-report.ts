// What the comparison prints around its table (the machine, how to read the columns, part 3)
// and the JSON report it writes. The table and the targets themselves are report.ts's.
import type { ConnectionScaleResult } from './connection-scale.js';
import type { ComparisonOptions } from './options.js';
import { LATENCY_ROUNDS, cellName, sliceTiming } from './plan.js';
import { formatRows, formatTargets, type CellRow, type TargetCheck } from './report.js';

export interface MachineInfo {
  cpus: number;
  cpuModel: string | null;
  memoryMb: number;
  loadAvgBefore: number[];
  loadAvgAfter: number[];
  /** Median round trip between two processes over loopback; null where it could not be measured. */
  loopbackRoundTripMs: { before: number | null; after: number | null };
  guestHaltPollNs: number | null;
  node: string;
  mariadb: string;
  memcached: string | null;
  /** git describe of the gateway measured; -dirty: built from uncommitted changes. */
  memgateCommit: string | null;
}

export interface ComparisonReport {
  generatedAt: string;
  machine: MachineInfo;
  settings: Record<string, unknown>;
  rawSqlStatements: { get: string; set: string };
  rows: CellRow[];
  targets: TargetCheck[];
  gatewayRssAfterRunKb: number | null;
  connectionScale: ConnectionScaleResult | null;
  notes: string[];
}

/** MEMGATE_* settings that reach the gateway, without the ones that may hold secrets. */
export function gatewayEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('MEMGATE_') && !/URL|PASSWORD|SASL/.test(name) && value !== undefined) shown[name] = value;
  }
  return shown;
}

/** The run's settings as the JSON report records them. */
export function runSettings(options: ComparisonOptions, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const slice = sliceTiming(options);
  return {
    secondsPerCell: options.seconds,
    warmupSeconds: options.warmupSeconds,
    keys: options.keyCount,
    valueBytes: options.valueSize,
    mixGetShare: 0.9,
    depths: options.depths,
    gatewayArgs: options.gatewayArgs,
    gatewayEnv: gatewayEnv(env),
    loadGenerator: 'closed loop, one worker thread per cell; raw SQL: mysql2 pool of N connections, N x depth loops, pool.execute (prepared)',
    latencyCells: `1 connection: each target runs ${LATENCY_ROUNDS} slices of ${slice.seconds} s (+${slice.warmupSeconds} s warm-up), the targets taking turns in a new random order every round`,
  };
}

const kb = (n: number) => (Number.isNaN(n) ? '?' : `${(n / 1024).toFixed(1)} MB`);
const ms = (value: number | null) => (value === null ? '?' : value.toFixed(3));

/** The lines above the table: the machine, the run's settings, and how to read the columns. */
export function formatPreamble(machine: MachineInfo, options: Pick<ComparisonOptions, 'seconds' | 'keyCount' | 'valueSize'>): string {
  const { before, after } = machine.loopbackRoundTripMs;
  const haltPollNs = machine.guestHaltPollNs;
  return [
    `memgate vs raw mysql2 vs memcached — ${machine.cpus} CPUs, node ${machine.node}, MariaDB ${machine.mariadb}, ${options.seconds} s per row, ${options.keyCount} keys, ${options.valueSize} B values, mix = 90% get / 10% set`,
    'depth = requests in flight per connection; x raw-sql / x memcached = memgate ops/s over theirs (memcached: same protocol if measured, else text)',
    '%cpu = CPU used during the cell in % of one core by the server (memgate/memcached), MariaDB and the load generator',
    `1-connection rows: ${LATENCY_ROUNDS} slices per target, the targets taking turns in a new random order every round, so that the machine's drift falls on all alike`,
    'merged r/w = keys per merged read / sets per merged write in the gateway (coalescing)',
    `one loopback round trip between two processes (median): ${ms(before)} ms before the cells, ${ms(after)} ms after; ` +
      'memgate makes one more per request than raw SQL (client <-> gateway), a large part of its p50 over raw SQL\'s at 1 connection',
    ...(haltPollNs === null ? [] : [`KVM guest halt polling (guest_halt_poll_ns): ${haltPollNs} ns` + (haltPollNs === 0
      ? '; idle vCPUs halt at once, so every wake-up of a process on one goes through the hypervisor, which multiplies the round trip above'
      : '')]),
  ].join('\n');
}

/** The table, each failed row's first error, the targets, and the gateway's memory after the cells. */
export function formatTable(rows: readonly CellRow[], targets: readonly TargetCheck[], gatewayRssAfterRunKb: number | null): string {
  return [
    formatRows(rows),
    ...rows.filter((r) => r.firstError).map((row) => `  ${cellName(row)}: first error: ${row.firstError}`),
    '',
    formatTargets(targets),
    '(targets are information only; the run does not fail on them)',
    ...(gatewayRssAfterRunKb === null ? [] : [`gateway RSS after the run: ${kb(gatewayRssAfterRunKb)}`]),
  ].join('\n');
}

/** Part 3: connections held open, the gateway's memory, and the load with and without them. */
export function formatConnectionScale(r: ConnectionScaleResult, loadConnections: number, valueSize: number): string {
  const s = r.slowReader;
  const load = (x: typeof r.loadAlone) => `${x.opsPerSecond.toFixed(0)} ops/s, p50 ${x.p50Ms.toFixed(3)} ms, p99 ${x.p99Ms.toFixed(3)} ms, ${x.errors} errors`;
  return [
    'connections (part 3), a fresh gateway, --max-queued-requests default unless set in BENCH_GATEWAY_ARGS:',
    `connections open at once: ${r.idleOpened + loadConnections} of ${r.totalConnections} (${r.idleOpened} idle, ${loadConnections} loaded; ${r.idleConnectFailures} idle connects failed); the gateway counted ${r.gatewayCurrConnections ?? '?'} idle ones open`,
    `gateway RSS before: ${kb(r.rssBeforeKb)}   with idle connections open: ${kb(r.rssWithIdleKb)}   peak under load: ${kb(r.rssPeakUnderLoadKb)}   after closing them: ${kb(r.rssAfterCloseKb)}`,
    `get load, ${loadConnections} connections, alone:            ${load(r.loadAlone)}`,
    `get load, ${loadConnections} connections, with idle ones open: ${load(r.loadWithIdle)}`,
    `idle connections asked 'version' afterwards: ${r.idleAnswered} of ${r.idleProbed} answered`,
    `non-reading client: ${s.requestsSent} pipelined gets of ${valueSize} B values (${(s.requestBytes / 1024).toFixed(0)} kB of requests); the gateway executed ${s.getsExecuted ?? '?'} of them, ${(s.requestBytesUnsent / 1024).toFixed(0)} kB of requests could not even be handed to the kernel`,
    `  gateway RSS before: ${kb(s.rssBeforeKb)}   peak: ${kb(s.rssPeakKb)} (+${kb(s.rssGrowthKb)})   after it left: ${kb(s.rssAfterKb)}`,
    `  another client's get meanwhile: ${Number.isNaN(s.otherClientGetMs) ? 'NO ANSWER within 5 s' : `${s.otherClientGetMs.toFixed(2)} ms`}`,
  ].join('\n');
}

/** A note with the last lines a gateway wrote, or null when it wrote nothing. */
export function serverOutputNote(which: string, output: string): string | null {
  const said = output.trim();
  return said ? `the ${which} wrote (last lines): ${said.split('\n').slice(-5).join(' | ')}` : null;
}

/** The report as JSON; NaN (a figure that could not be measured) becomes null. */
export function reportJson(report: object): string {
  return `${JSON.stringify(report, (_, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v), 2)}\n`;
}
