// npm run bench:compare — memgate side by side with raw mysql2 and with memcached on this
// machine: one embedded MariaDB, the gateway and memcached as their own processes, the load
// generator in worker threads. Prints a table and the issue's targets, writes them as JSON,
// then holds thousands of connections open and measures the gateway's memory. Loopback only;
// everything it starts is stopped at the end, also on error or Ctrl-C.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import mysql from 'mysql2/promise';
import winston from 'winston';
import { startEmbeddedMariadb } from '../../src/embedded/mariadb.js';
import { measureConnectionScale, type ConnectionScaleResult } from './connection-scale.js';
import { mergeSlices, roundOrders } from './interleave.js';
import { benchKeys, benchValue, runLoad, type LoadResult, type LoadSpec, type MemcacheTarget, type SqlTarget, type Workload } from './load.js';
import { guestHaltPollNs, loopbackRoundTripMs } from './loopback.js';
import { layoutFor } from '../../src/embedded/layout.js';
import {
  freePort, openFilesLimit, pidFromFile, processCpuSeconds, rssKb, serverStats, startGateway, startMemcached, type ServerProcess,
} from './processes.js';
import { prepareRawTable, rawStatements } from './raw-sql.js';
import { TARGET_NAMES, checkTargets, formatRows, formatTargets, withRatios, type Cell, type CellRow, type TargetCheck, type TargetName } from './report.js';

export interface ComparisonOptions {
  /** Measured seconds per cell (BENCH_SECONDS). */
  seconds: number;
  /** Unmeasured seconds before each cell: connections open, statements get prepared. */
  warmupSeconds: number;
  workloads: Workload[];
  concurrencies: number[];
  targets: TargetName[];
  /**
   * Requests in flight per connection: pipelined for the memcached-protocol targets; raw SQL
   * gets as many callers per pool connection, queued by mysql2 (the same offered load).
   */
  depths: number[];
  keyCount: number;
  valueSize: number;
  /** Connections held open in part 3, the 16 loaded ones included; 0 skips part 3. */
  totalConnections: number;
  slowReaderRequests: number;
  jsonPath: string;
  /** Extra `memgate serve` flags (BENCH_GATEWAY_ARGS, split on spaces). */
  gatewayArgs: string[];
  /** Progress lines (default: stderr). The table goes to stdout. */
  log: (line: string) => void;
}

export interface ComparisonReport {
  generatedAt: string;
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  rawSqlStatements: { get: string; set: string };
  rows: CellRow[];
  targets: TargetCheck[];
  gatewayRssAfterRunKb: number | null;
  connectionScale: ConnectionScaleResult | null;
  notes: string[];
}

const LOAD_CONNECTIONS = 16;
const KEY_PREFIX = 'bench:';
const RAW_TABLE = 'bench_raw';
const GATEWAY_TABLE = 'bench_kv';
/** The 1-connection cells of a workload take turns in this many slices each. */
const LATENCY_ROUNDS = 6;
/** Warm-up of each slice: a fresh connection's first replies are not part of the figures. */
const LATENCY_SLICE_WARMUP_SECONDS = 0.2;

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function numbers(value: string | undefined, name: string): number[] | undefined {
  const items = list(value);
  if (!items) return undefined;
  return items.map((item) => {
    const n = Number(item);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: not a positive whole number: ${item}`);
    return n;
  });
}

function oneOf<T extends string>(items: string[] | undefined, allowed: readonly T[], name: string): T[] | undefined {
  if (!items) return undefined;
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`${name}: ${item} is not one of ${allowed.join(', ')}`);
  return items as T[];
}

function positive(value: string | undefined, name: string, min = 0): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name}: expected a number >= ${min}, got ${value}`);
  return n;
}

export const DEFAULT_OPTIONS: ComparisonOptions = {
  seconds: 3,
  warmupSeconds: 0.5,
  workloads: ['get', 'set', 'mix'],
  concurrencies: [1, 16, 64],
  targets: ['raw-sql', 'memgate-text', 'memgate-binary', 'memcached-text'],
  // 1: a client that waits for each reply; 4: light pipelining; 16: a pipelining load
  // generator (memtier_benchmark --pipeline=16), the issue's "pipelining-capable" one.
  depths: [1, 4, 16],
  keyCount: 10_000,
  valueSize: 1024,
  totalConnections: 5000,
  slowReaderRequests: 1_000_000,
  jsonPath: 'bench-results.json',
  gatewayArgs: [],
  log: (line) => process.stderr.write(`${line}\n`),
};

/** Options from BENCH_* environment variables; unset ones keep their defaults. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<ComparisonOptions> {
  const options: Partial<ComparisonOptions> = {};
  const set = <K extends keyof ComparisonOptions>(key: K, value: ComparisonOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value;
  };
  set('seconds', positive(env['BENCH_SECONDS'], 'BENCH_SECONDS', 0.1));
  set('warmupSeconds', positive(env['BENCH_WARMUP_SECONDS'], 'BENCH_WARMUP_SECONDS'));
  set('workloads', oneOf(list(env['BENCH_WORKLOADS']), ['get', 'set', 'mix'] as const, 'BENCH_WORKLOADS'));
  set('concurrencies', numbers(env['BENCH_CONCURRENCY'], 'BENCH_CONCURRENCY'));
  set('targets', oneOf(list(env['BENCH_TARGETS']), TARGET_NAMES, 'BENCH_TARGETS'));
  set('depths', numbers(env['BENCH_DEPTH'], 'BENCH_DEPTH'));
  set('keyCount', positive(env['BENCH_KEYS'], 'BENCH_KEYS', 1));
  set('valueSize', positive(env['BENCH_VALUE_SIZE'], 'BENCH_VALUE_SIZE', 1));
  set('totalConnections', positive(env['BENCH_CONNECTIONS_TOTAL'], 'BENCH_CONNECTIONS_TOTAL'));
  set('slowReaderRequests', positive(env['BENCH_SLOW_READER_REQUESTS'], 'BENCH_SLOW_READER_REQUESTS', 1));
  set('jsonPath', env['BENCH_JSON'] || undefined);
  set('gatewayArgs', env['BENCH_GATEWAY_ARGS']?.split(/\s+/).filter(Boolean));
  return options;
}

function tryRun(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** MEMGATE_* settings that reach the gateway, without the ones that may hold secrets. */
function gatewayEnv(): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('MEMGATE_') && !/URL|PASSWORD|SASL/.test(name) && value !== undefined) shown[name] = value;
  }
  return shown;
}

const kb = (n: number) => (Number.isNaN(n) ? '?' : `${(n / 1024).toFixed(1)} MB`);

function formatConnectionScale(r: ConnectionScaleResult, options: ComparisonOptions): string {
  const s = r.slowReader;
  const load = (x: typeof r.loadAlone) => `${x.opsPerSecond.toFixed(0)} ops/s, p50 ${x.p50Ms.toFixed(3)} ms, p99 ${x.p99Ms.toFixed(3)} ms, ${x.errors} errors`;
  return [
    `connections open at once: ${r.idleOpened + LOAD_CONNECTIONS} of ${r.totalConnections} (${r.idleOpened} idle, ${LOAD_CONNECTIONS} loaded; ${r.idleConnectFailures} idle connects failed); the gateway counted ${r.gatewayCurrConnections ?? '?'} idle ones open`,
    `gateway RSS before: ${kb(r.rssBeforeKb)}   with idle connections open: ${kb(r.rssWithIdleKb)}   peak under load: ${kb(r.rssPeakUnderLoadKb)}   after closing them: ${kb(r.rssAfterCloseKb)}`,
    `get load, ${LOAD_CONNECTIONS} connections, alone:            ${load(r.loadAlone)}`,
    `get load, ${LOAD_CONNECTIONS} connections, with idle ones open: ${load(r.loadWithIdle)}`,
    `idle connections asked 'version' afterwards: ${r.idleAnswered} of ${r.idleProbed} answered`,
    `non-reading client: ${s.requestsSent} pipelined gets of ${options.valueSize} B values (${(s.requestBytes / 1024).toFixed(0)} kB of requests); the gateway executed ${s.getsExecuted ?? '?'} of them, ${(s.requestBytesUnsent / 1024).toFixed(0)} kB of requests could not even be handed to the kernel`,
    `  gateway RSS before: ${kb(s.rssBeforeKb)}   peak: ${kb(s.rssPeakKb)} (+${kb(s.rssGrowthKb)})   after it left: ${kb(s.rssAfterKb)}`,
    `  another client's get meanwhile: ${Number.isNaN(s.otherClientGetMs) ? 'NO ANSWER within 5 s' : `${s.otherClientGetMs.toFixed(2)} ms`}`,
  ].join('\n');
}

const MERGE_COUNTS = ['readBatches', 'readKeys', 'writeBatches', 'writeSets'] as const;
type MergeCounts = Record<(typeof MERGE_COUNTS)[number], number>;

/** The gateway's coalescing counters (stats coalesce_*). */
async function mergeCounts(port: number): Promise<MergeCounts> {
  const stats = await serverStats(port);
  const n = (name: string) => Number(stats.get(name) ?? Number.NaN);
  return {
    readBatches: n('coalesce_read_batches'), readKeys: n('coalesce_read_keys'),
    writeBatches: n('coalesce_write_batches'), writeSets: n('coalesce_write_sets'),
  };
}

/** a + sign × b, counter by counter */
function combineCounts(a: MergeCounts, b: MergeCounts, sign: 1 | -1): MergeCounts {
  return Object.fromEntries(MERGE_COUNTS.map((name) => [name, a[name] + sign * b[name]])) as MergeCounts;
}

/** Keys per merged read and sets per merged write during a cell (warm-up included); null: none ran. */
function mergedPer(counted: MergeCounts): { keysPerRead: number | null; setsPerWrite: number | null } {
  const per = (items: number, statements: number) => (statements > 0 ? items / statements : null);
  return { keysPerRead: per(counted.readKeys, counted.readBatches), setsPerWrite: per(counted.writeSets, counted.writeBatches) };
}

const cellName = (c: { workload: string; connections: number; target: string; depth: number }) =>
  `${c.workload} x${c.connections} ${c.target} depth ${c.depth}`;

/**
 * Runs the whole comparison: starts MariaDB, memgate and memcached, runs every cell, prints
 * the table and the targets to stdout, writes the JSON report and returns it.
 */
export async function runComparison(partial: Partial<ComparisonOptions> = {}): Promise<ComparisonReport> {
  const options: ComparisonOptions = { ...DEFAULT_OPTIONS, ...partial };
  const { log } = options;
  const notes: string[] = [];
  const releasers: Array<() => Promise<void>> = [];
  const releaseAll = async () => {
    for (const release of releasers.splice(0).reverse()) {
      await release().catch((error: unknown) => log(`cleanup: ${(error as Error).message}`));
    }
  };
  // Ctrl-C or a kill while running: stop what we started before going.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping everything the benchmark started …`);
    void releaseAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const needsGateway = options.targets.some((t) => t.startsWith('memgate-')) || options.totalConnections > 0;
  const fdLimit = openFilesLimit();
  if (options.totalConnections + 256 > fdLimit) {
    const fitted = Math.max(0, fdLimit - 256);
    notes.push(`open files limit ${fdLimit}: part 3 holds ${fitted} connections instead of ${options.totalConnections} (raise it with ulimit -n)`);
    options.totalConnections = fitted;
  }
  const loadAvgBefore = os.loadavg();
  const started = Date.now();
  /** The loopback figure is context for the table; failing to measure it must not cost the run. */
  const loopback = async (when: string): Promise<number | null> => {
    try {
      return await loopbackRoundTripMs();
    } catch (error) {
      notes.push(`loopback round trip ${when} the cells not measured: ${(error as Error).message}`);
      return null;
    }
  };

  try {
    const loopbackBeforeMs = await loopback('before');
    const haltPollNs = await guestHaltPollNs();
    const logger = winston.createLogger({ level: 'warn', transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })] });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-compare-'));
    releasers.push(() => rm(dir, { recursive: true, force: true }));
    log('starting MariaDB …');
    const db = await startEmbeddedMariadb({ dataDir: dir, port: await freePort(), database: 'bench', logger });
    releasers.push(() => db.stop());
    const dbPid = pidFromFile(layoutFor(dir).pidFile);
    const keys = benchKeys(options.keyCount, KEY_PREFIX);
    const value = benchValue(options.valueSize);
    const probe = await mysql.createConnection({ uri: db.url });
    const [versionRows] = await probe.query('SELECT VERSION() AS v');
    await probe.end();
    const mariadbVersion = (versionRows as Array<{ v: string }>)[0]!.v;

    const sqlTarget: SqlTarget = { kind: 'sql', url: db.url, table: RAW_TABLE };
    if (options.targets.includes('raw-sql')) {
      log(`loading ${keys.length} keys into ${RAW_TABLE} …`);
      await prepareRawTable(db.url, RAW_TABLE, keys, value);
    }

    const base = { seconds: options.seconds, warmupSeconds: options.warmupSeconds, keyCount: options.keyCount, keyPrefix: KEY_PREFIX, valueSize: options.valueSize };
    const fill = (port: number) =>
      runLoad({ ...base, target: { kind: 'memcache', protocol: 'text', port }, workload: 'fill', connections: 4, depth: 32 });

    let gateway: ServerProcess | undefined;
    if (needsGateway) {
      log('starting memgate …');
      gateway = await startGateway({ dbUrl: db.url, table: GATEWAY_TABLE, extraArgs: options.gatewayArgs });
      releasers.push(() => gateway!.stop());
      const filled = await fill(gateway.port);
      if (filled.errors > 0) throw new Error(`loading keys through memgate failed: ${filled.firstError}`);
    }
    let memcached: ServerProcess | undefined;
    if (options.targets.some((t) => t.startsWith('memcached-'))) {
      log('starting memcached …');
      memcached = await startMemcached();
      releasers.push(() => memcached!.stop());
      await fill(memcached.port);
    }
    // -dirty: the gateway measured was built from uncommitted changes.
    const memgateVersion = tryRun('git', ['describe', '--always', '--dirty']);

    const targetOf = (name: TargetName): MemcacheTarget | SqlTarget => {
      switch (name) {
        case 'raw-sql': return sqlTarget;
        case 'memgate-text': return { kind: 'memcache', protocol: 'text', port: gateway!.port };
        case 'memgate-binary': return { kind: 'memcache', protocol: 'binary', port: gateway!.port };
        case 'memcached-text': return { kind: 'memcache', protocol: 'text', port: memcached!.port };
        case 'memcached-binary': return { kind: 'memcache', protocol: 'binary', port: memcached!.port };
      }
    };

    const plan: Array<Pick<Cell, 'workload' | 'connections' | 'target' | 'depth'>> = [];
    for (const workload of options.workloads) {
      for (const connections of options.concurrencies) {
        for (const target of options.targets) {
          // A lone connection is measured closed-loop only: its row is the latency target's.
          for (const depth of connections === 1 ? [1] : options.depths) plan.push({ workload, connections, target, depth });
        }
      }
    }
    const slice = { seconds: options.seconds / LATENCY_ROUNDS, warmupSeconds: Math.min(options.warmupSeconds, LATENCY_SLICE_WARMUP_SECONDS) };
    // A load thread takes about 0.3 s to start; the interleaved cells start one per slice.
    const estimate = plan.reduce((sum, step) => sum + (step.connections === 1
      ? options.seconds + LATENCY_ROUNDS * (slice.warmupSeconds + 0.3)
      : options.seconds + options.warmupSeconds + 0.3), 0);
    log(`${plan.length} cells of ${options.seconds} s (+${options.warmupSeconds} s warm-up): about ${Math.ceil(estimate / 60)} min, then part 3`);

    type Step = (typeof plan)[number];
    interface Slice { result: LoadResult; wallSeconds: number; cpuSeconds: { server: number; database: number; generator: number }; merged: MergeCounts | null }
    /** One run of the load against a step's target, with the CPU each process used meanwhile. */
    const measureSlice = async (step: Step, overrides: Partial<LoadSpec>): Promise<Slice> => {
      const spec: LoadSpec = { ...base, target: targetOf(step.target), workload: step.workload, connections: step.connections, depth: step.depth, ...overrides };
      const serverPid = step.target.startsWith('memgate-') ? gateway!.pid : step.target.startsWith('memcached-') ? memcached!.pid : null;
      const sample = () => ({
        at: performance.now(),
        server: serverPid ? processCpuSeconds(serverPid) : Number.NaN,
        database: dbPid ? processCpuSeconds(dbPid) : Number.NaN,
        generator: process.cpuUsage(),
      });
      const mergedBefore = step.target.startsWith('memgate-') ? await mergeCounts(gateway!.port) : null;
      // From the moment the load generator's thread has started: its start-up is not the cell's.
      let cpuBefore = sample();
      const result = await runLoad(spec, { onReady: () => { cpuBefore = sample(); } });
      const after = sample();
      const mergedAfter = mergedBefore ? await mergeCounts(gateway!.port) : null;
      return {
        result,
        wallSeconds: (after.at - cpuBefore.at) / 1000,
        cpuSeconds: {
          server: after.server - cpuBefore.server,
          database: after.database - cpuBefore.database,
          generator: (after.generator.user - cpuBefore.generator.user + after.generator.system - cpuBefore.generator.system) / 1e6,
        },
        merged: mergedBefore && mergedAfter ? combineCounts(mergedAfter, mergedBefore, -1) : null,
      };
    };
    const toCell = (step: Step, slices: Slice[]): Cell => {
      const wall = slices.reduce((n, s) => n + s.wallSeconds, 0);
      const cpu = (which: keyof Slice['cpuSeconds']) => slices.reduce((n, s) => n + s.cpuSeconds[which], 0);
      const share = (seconds: number) => (Number.isFinite(seconds) ? Math.round((100 * seconds) / wall) : null);
      const merged = slices[0]!.merged ? mergedPer(slices.map((s) => s.merged!).reduce((a, b) => combineCounts(a, b, 1))) : undefined;
      const { samples: _samples, ...result } = mergeSlices(slices.map((s) => s.result));
      return { ...step, ...result, cpuPercent: { server: share(cpu('server')), database: share(cpu('database')), generator: share(cpu('generator')) ?? 0 }, merged };
    };
    const failedCell = (step: Step, message: string): Cell => ({
      ...step, ops: 0, measuredSeconds: 0, opsPerSecond: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN,
      hits: 0, misses: 0, stored: 0, errors: 1, firstError: message,
    });

    // The 1-connection cells of a workload run together, interleaved (see interleave.ts); the
    // others one after another.
    const groups: Step[][] = [];
    for (const step of plan) {
      const joins = step.connections === 1 ? groups.find((g) => g[0]!.connections === 1 && g[0]!.workload === step.workload) : undefined;
      if (joins) joins.push(step);
      else groups.push([step]);
    }
    const cells: Cell[] = [];
    let done = 0;
    for (const group of groups) {
      if (interrupted) throw new Error('interrupted');
      const slices = new Map<Step, Slice[]>(group.map((step) => [step, []]));
      const failures = new Map<Step, string>();
      const orders = group.length === 1 ? [group] : roundOrders(group, LATENCY_ROUNDS, groups.indexOf(group) + 1);
      for (const [round, order] of orders.entries()) {
        for (const step of order) {
          if (interrupted) throw new Error('interrupted');
          if (failures.has(step)) continue;
          const overrides: Partial<LoadSpec> = group.length === 1 ? {} : { ...slice, seed: round, keepSamples: true };
          try {
            slices.get(step)!.push(await measureSlice(step, overrides));
          } catch (error) {
            failures.set(step, (error as Error).message);
          }
        }
      }
      for (const step of group) {
        const failure = failures.get(step);
        const cell = failure === undefined ? toCell(step, slices.get(step)!) : failedCell(step, failure);
        cells.push(cell);
        done++;
        const how = group.length > 1 ? ` (${LATENCY_ROUNDS} interleaved slices)` : '';
        log(failure !== undefined
          ? `[${done}/${plan.length}] ${cellName(step)}: FAILED ${failure}`
          : `[${done}/${plan.length}] ${cellName(step)}${how}: ${cell.opsPerSecond.toFixed(0)} ops/s, p50 ${cell.p50Ms.toFixed(3)} ms${cell.errors ? `, ${cell.errors} errors (${cell.firstError})` : ''}`);
      }
    }
    const gatewayRssAfterRunKb = gateway ? rssKb(gateway.pid) : null;
    const loopbackAfterMs = await loopback('after');

    const rows = withRatios(cells);
    const targets = checkTargets(rows);
    const machine = {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? null,
      memoryMb: Math.round(os.totalmem() / 2 ** 20),
      loadAvgBefore,
      loadAvgAfter: os.loadavg(),
      loopbackRoundTripMs: { before: loopbackBeforeMs, after: loopbackAfterMs },
      guestHaltPollNs: haltPollNs,
      node: process.version,
      mariadb: mariadbVersion,
      memcached: memcached ? tryRun('/usr/bin/memcached', ['-V']) : null,
      memgateCommit: memgateVersion,
    };
    const settings = {
      secondsPerCell: options.seconds,
      warmupSeconds: options.warmupSeconds,
      keys: options.keyCount,
      valueBytes: options.valueSize,
      mixGetShare: 0.9,
      depths: options.depths,
      gatewayArgs: options.gatewayArgs,
      gatewayEnv: gatewayEnv(),
      loadGenerator: 'closed loop, one worker thread per cell; raw SQL: mysql2 pool of N connections, N x depth loops, pool.execute (prepared)',
      latencyCells: `1 connection: each target runs ${LATENCY_ROUNDS} slices of ${slice.seconds} s (+${slice.warmupSeconds} s warm-up), the targets taking turns in a new random order every round`,
    };

    const print = (text: string) => process.stdout.write(`${text}\n`);
    print('');
    print(`memgate vs raw mysql2 vs memcached — ${machine.cpus} CPUs, node ${machine.node}, MariaDB ${mariadbVersion}, ${options.seconds} s per row, ${options.keyCount} keys, ${options.valueSize} B values, mix = 90% get / 10% set`);
    print('depth = requests in flight per connection; x raw-sql / x memcached = memgate ops/s over theirs (memcached: same protocol if measured, else text)');
    print('%cpu = CPU used during the cell in % of one core by the server (memgate/memcached), MariaDB and the load generator');
    print(`1-connection rows: ${LATENCY_ROUNDS} slices per target, the targets taking turns in a new random order every round, so that the machine's drift falls on all alike`);
    print('merged r/w = keys per merged read / sets per merged write in the gateway (coalescing)');
    const ms = (value: number | null) => (value === null ? '?' : value.toFixed(3));
    print(`one loopback round trip between two processes (median): ${ms(loopbackBeforeMs)} ms before the cells, ${ms(loopbackAfterMs)} ms after; ` +
      'memgate makes one more per request than raw SQL (client <-> gateway), a large part of its p50 over raw SQL\'s at 1 connection');
    if (haltPollNs !== null) {
      print(`KVM guest halt polling (guest_halt_poll_ns): ${haltPollNs} ns` + (haltPollNs === 0
        ? '; idle vCPUs halt at once, so every wake-up of a process on one goes through the hypervisor, which multiplies the round trip above'
        : ''));
    }
    print('');
    print(formatRows(rows));
    for (const row of rows.filter((r) => r.firstError)) print(`  ${cellName(row)}: first error: ${row.firstError}`);
    print('');
    print(formatTargets(targets));
    print('(targets are information only; the run does not fail on them)');
    if (gatewayRssAfterRunKb !== null) print(`gateway RSS after the run: ${kb(gatewayRssAfterRunKb)}`);

    let connectionScale: ConnectionScaleResult | null = null;
    let part3Gateway: ServerProcess | undefined;
    if (options.totalConnections > 0 && !interrupted) {
      // The servers of the table are idle now; stopped, they cannot disturb the figures.
      await memcached?.stop();
      await gateway?.stop();
      log(`part 3: ${options.totalConnections} connections on a fresh gateway …`);
      const fresh = await startGateway({ dbUrl: db.url, table: GATEWAY_TABLE, extraArgs: options.gatewayArgs });
      releasers.push(() => fresh.stop());
      part3Gateway = fresh;
      connectionScale = await measureConnectionScale({
        gateway: fresh,
        totalConnections: options.totalConnections,
        loadConnections: LOAD_CONNECTIONS,
        load: { ...base, target: { kind: 'memcache', protocol: 'text', port: fresh.port }, workload: 'get', depth: 1 },
        slowReaderRequests: options.slowReaderRequests,
        slowReaderSeconds: Math.max(2, Math.min(options.seconds, 6)),
        log,
      });
      await fresh.stop();
      print('');
      print(`connections (part 3), a fresh gateway, --max-queued-requests default unless set in BENCH_GATEWAY_ARGS:`);
      print(formatConnectionScale(connectionScale, options));
    }
    for (const server of [gateway, part3Gateway]) {
      const said = server?.output().trim();
      if (said) notes.push(`the ${server === gateway ? 'gateway of the table' : 'gateway of part 3'} wrote (last lines): ${said.split('\n').slice(-5).join(' | ')}`);
    }
    for (const note of notes) print(`note: ${note}`);

    const report: ComparisonReport = {
      generatedAt: new Date().toISOString(),
      machine,
      settings,
      rawSqlStatements: rawStatements(RAW_TABLE),
      rows,
      targets,
      gatewayRssAfterRunKb,
      connectionScale,
      notes,
    };
    await writeFile(options.jsonPath, `${JSON.stringify(report, (_, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v), 2)}\n`);
    print(`\nwritten to ${options.jsonPath}; whole run ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return report;
  } finally {
    await releaseAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Output piped into `head` that went away must not skip the cleanup: the run goes on quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  try {
    await runComparison(optionsFromEnv());
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
}
