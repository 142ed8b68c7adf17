// npm run bench:compare — memgate side by side with raw mysql2 and with memcached on this
// machine: one embedded MariaDB, the gateway and memcached as their own processes, the load
// generator in worker threads. Prints a table and the targets, writes them as JSON,
// then holds thousands of connections open and measures the gateway's memory. Loopback only;
// everything it starts is stopped at the end, also on error or Ctrl-C (bench/lifecycle.ts).
// The parts: options.ts (settings), servers.ts (starting them), plan.ts and cells.ts (the
// table's cells), connection-scale.ts (part 3), report.ts and run-report.ts (what is printed).
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { benchLogger, runAsScript, withBenchLifecycle, type BenchLifecycle } from '../lifecycle.js';
import { measureCells, type LoadBase } from './cells.js';
import { measureConnectionScale, type ConnectionScaleResult } from './connection-scale.js';
import { guestHaltPollNs, loopbackRoundTripMs } from './loopback.js';
import { DEFAULT_OPTIONS, optionsFromEnv, type ComparisonOptions } from './options.js';
import { estimateSeconds, planSteps } from './plan.js';
import { openFilesLimit, rssKb, tryRun, type ServerProcess } from './processes.js';
import { rawStatements } from './raw-sql.js';
import { checkTargets, withRatios, type CellRow, type TargetCheck } from './report.js';
import {
  formatConnectionScale, formatPreamble, formatTable, reportJson, runSettings, serverOutputNote, type ComparisonReport, type MachineInfo,
} from './run-report.js';
import { RAW_TABLE, serverPidOf, startComparedGateway, startServers, targetOf, type ComparisonServers } from './servers.js';


const LOAD_CONNECTIONS = 16;
const KEY_PREFIX = 'bench:';
/** Open files the run needs besides part 3's connections. */
const SPARE_OPEN_FILES = 256;

const print = (text: string) => process.stdout.write(`${text}\n`);

/** Part 3 shrinks to what the open files limit allows, with a note saying so. */
function fitToOpenFiles(options: ComparisonOptions, notes: string[]): void {
  const fdLimit = openFilesLimit();
  if (options.totalConnections + SPARE_OPEN_FILES > fdLimit) {
    const fitted = Math.max(0, fdLimit - SPARE_OPEN_FILES);
    notes.push(`open files limit ${fdLimit}: part 3 holds ${fitted} connections instead of ${options.totalConnections} (raise it with ulimit -n)`);
    options.totalConnections = fitted;
  }
}

/** The loopback figure is context for the table; failing to measure it must not cost the run. */
async function loopback(when: string, notes: string[]): Promise<number | null> {
  try {
    return await loopbackRoundTripMs();
  } catch (error) {
    notes.push(`loopback round trip ${when} the cells not measured: ${(error as Error).message}`);
    return null;
  }
}

/** Part 1 and 2: every cell of the plan against the servers started, as table rows with the targets checked. */
async function measureTable(
  options: ComparisonOptions, base: LoadBase, servers: ComparisonServers, lifecycle: BenchLifecycle,
): Promise<{ rows: CellRow[]; targets: TargetCheck[] }> {
  const plan = planSteps(options);
  options.log(`${plan.length} cells of ${options.seconds} s (+${options.warmupSeconds} s warm-up): about ${Math.ceil(estimateSeconds(plan, options) / 60)} min, then part 3`);
  const cells = await measureCells(plan, {
    base,
    targetOf: (name) => targetOf(servers, name),
    serverPidOf: (name) => serverPidOf(servers, name),
    dbPid: servers.dbPid,
    gatewayPort: servers.gateway?.port ?? null,
  }, { seconds: options.seconds, warmupSeconds: options.warmupSeconds, interrupted: () => lifecycle.interrupted, log: options.log });
  const rows = withRatios(cells);
  return { rows, targets: checkTargets(rows) };
}

/** Part 3 on a fresh gateway, the table's servers stopped first; prints its figures. */
async function measureConnections(
  options: ComparisonOptions, base: LoadBase, servers: ComparisonServers, lifecycle: BenchLifecycle,
): Promise<{ result: ConnectionScaleResult; gateway: ServerProcess }> {
  // The servers of the table are idle now; stopped, they cannot disturb the figures.
  await servers.memcached?.stop();
  await servers.gateway?.stop();
  options.log(`part 3: ${options.totalConnections} connections on a fresh gateway …`);
  const gateway = await startComparedGateway(servers.dbUrl, options, lifecycle);
  const result = await measureConnectionScale({
    gateway,
    totalConnections: options.totalConnections,
    loadConnections: LOAD_CONNECTIONS,
    load: { ...base, target: { kind: 'memcache', protocol: 'text', port: gateway.port }, workload: 'get', depth: 1 },
    slowReaderRequests: options.slowReaderRequests,
    slowReaderSeconds: Math.max(2, Math.min(options.seconds, 6)),
    log: options.log,
  });
  await gateway.stop();
  print('');
  print(formatConnectionScale(result, LOAD_CONNECTIONS, options.valueSize));
  return { result, gateway };
}

/**
 * Runs the whole comparison: starts MariaDB, memgate and memcached, runs every cell, prints
 * the table and the targets to stdout, writes the JSON report and returns it.
 */
export async function runComparison(partial: Partial<ComparisonOptions> = {}): Promise<ComparisonReport> {
  const options: ComparisonOptions = { ...DEFAULT_OPTIONS, ...partial };
  const { log } = options;
  const notes: string[] = [];
  fitToOpenFiles(options, notes);
  const loadAvgBefore = os.loadavg();
  const started = Date.now();
  const logger = benchLogger();

  return withBenchLifecycle({ logger, log }, async (lifecycle) => {
    const loopbackBeforeMs = await loopback('before', notes);
    const haltPollNs = await guestHaltPollNs();
    const base: LoadBase = { seconds: options.seconds, warmupSeconds: options.warmupSeconds, keyCount: options.keyCount, keyPrefix: KEY_PREFIX, valueSize: options.valueSize };
    const servers = await startServers({ options, base, lifecycle, logger, log });
    const memgateCommit = tryRun('git', ['describe', '--always', '--dirty']);

    const { rows, targets } = await measureTable(options, base, servers, lifecycle);
    const gatewayRssAfterRunKb = servers.gateway ? rssKb(servers.gateway.pid) : null;
    const loopbackAfterMs = await loopback('after', notes);
    const machine: MachineInfo = {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? null,
      memoryMb: Math.round(os.totalmem() / 2 ** 20),
      loadAvgBefore,
      loadAvgAfter: os.loadavg(),
      loopbackRoundTripMs: { before: loopbackBeforeMs, after: loopbackAfterMs },
      guestHaltPollNs: haltPollNs,
      node: process.version,
      mariadb: servers.mariadbVersion,
      memcached: servers.memcached ? tryRun('/usr/bin/memcached', ['-V']) : null,
      memgateCommit,
    };
    print('');
    print(formatPreamble(machine, options));
    print('');
    print(formatTable(rows, targets, gatewayRssAfterRunKb));

    const part3 = options.totalConnections > 0 && !lifecycle.interrupted
      ? await measureConnections(options, base, servers, lifecycle)
      : null;
    for (const [which, server] of [['gateway of the table', servers.gateway], ['gateway of part 3', part3?.gateway]] as const) {
      const note = server ? serverOutputNote(which, server.output()) : null;
      if (note) notes.push(note);
    }
    for (const note of notes) print(`note: ${note}`);

    const report: ComparisonReport = {
      generatedAt: new Date().toISOString(),
      machine,
      settings: runSettings(options, process.env),
      rawSqlStatements: rawStatements(RAW_TABLE),
      rows,
      targets,
      gatewayRssAfterRunKb,
      connectionScale: part3?.result ?? null,
      notes,
    };
    await writeFile(options.jsonPath, reportJson(report));
    print(`\nwritten to ${options.jsonPath}; whole run ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return report;
  });
}

await runAsScript(import.meta.url, () => runComparison(optionsFromEnv()));
