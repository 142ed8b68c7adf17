// npm run bench:sessions — real PHP CLI processes doing session page views against memcached,
// memgate, Redis (AOF always / everysec) and Symfony's PdoSessionHandler, side by side in one
// run on loopback. Prints one row per (store, processes, ids), the goals, and writes JSON.
// Everything it starts is stopped at the end, also on error or Ctrl-C (bench/lifecycle.ts).
// The parts: options.ts (settings), servers.ts (starting them), stores.ts (PHP settings per
// store), workers.ts and php/worker.php (the PHP processes), cells.ts (one cell), stats.ts
// (a cell's figures), report.ts (what is printed).
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import mysql from 'mysql2/promise';
import { roundOrders } from '../compare/interleave.js';
import { serverOutputNote, reportJson } from '../compare/run-report.js';
import { tryRun } from '../compare/processes.js';
import { benchLogger, runAsScript, withBenchLifecycle } from '../lifecycle.js';
import { measureCell } from './cells.js';
import { DEFAULT_OPTIONS, estimateSeconds, optionsFromEnv, workloadsOf, type SessionBenchOptions } from './options.js';
import { checkGoals, formatCells, formatFailures, formatGoals, formatHeader, type SessionMachine, type SessionReport } from './report.js';
import { startServers } from './servers.js';
import type { SessionCell } from './stats.js';
import { killAllPhp } from './workers.js';

const print = (text: string) => process.stdout.write(`${text}\n`);

function firstLine(text: string | null): string | null {
  return text?.split('\n')[0]?.trim() ?? null;
}

export async function runSessionBench(partial: Partial<SessionBenchOptions> = {}): Promise<SessionReport> {
  const options: SessionBenchOptions = { ...DEFAULT_OPTIONS, ...partial };
  const { log } = options;
  const notes: string[] = [];
  const loadAvgBefore = os.loadavg();
  const started = Date.now();
  const logger = benchLogger();

  return withBenchLifecycle({ logger, log }, async (lifecycle) => {
    await lifecycle.own('PHP processes', null, () => killAllPhp());
    const servers = await startServers({ options, lifecycle, logger, log });
    const statusConnection = await lifecycle.own('status connection', await mysql.createConnection({ uri: servers.dbUrl }), (c) => c.end());
    const workloads = workloadsOf(options);
    const orders = roundOrders(options.stores, workloads.length, options.seed);
    log(`${workloads.length * options.stores.length} cells of ${options.seconds} s (+${options.warmupSeconds} s warm-up): about ${Math.ceil(estimateSeconds(options) / 60)} min`);

    const context = { servers, statusConnection, options, runTag: randomBytes(4).toString('hex') };
    const cells: SessionCell[] = [];
    let cellIndex = 0;
    for (const [w, workload] of workloads.entries()) {
      for (const store of orders[w]!) {
        if (lifecycle.interrupted) break;
        log(`${store}, ${workload.procs} processes, ${workload.ids} ids …`);
        const cell = await measureCell(store, workload, cellIndex++, context);
        log(`  ${cell.viewsPerSecond.toFixed(0)} views/s, p50 ${cell.p50Ms.toFixed(2)} ms, p99 ${cell.p99Ms.toFixed(2)} ms, ${cell.failures} failures`);
        cells.push(cell);
      }
    }
    // The table's order: by workload, then the stores' fixed order, whatever order they ran in.
    const rank = (c: SessionCell) => workloads.findIndex((w) => w.procs === c.procs && w.ids === c.ids) * 100 + options.stores.indexOf(c.store);
    cells.sort((a, b) => rank(a) - rank(b));
    const goals = checkGoals(cells);

    const machine: SessionMachine = {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? null,
      loadAvgBefore,
      loadAvgAfter: os.loadavg(),
      node: process.version,
      php: firstLine(tryRun(process.env['PHP_BIN'] ?? 'php', ['-r', 'echo PHP_VERSION;'])),
      mariadb: servers.mariadbVersion,
      memcached: servers.endpoints.memcached ? tryRun('/usr/bin/memcached', ['-V']) : null,
      redis: /v=(\S+)/.exec(tryRun(process.env['REDIS_BIN'] ?? '/usr/bin/redis-server', ['--version']) ?? '')?.[1] ?? null,
      memgateCommit: tryRun('git', ['describe', '--always', '--dirty']),
    };
    print('');
    print(formatHeader(machine, options, cells));
    print('');
    print(formatCells(cells));
    const failures = formatFailures(cells);
    if (failures.length > 0) print(['', 'failures:', ...failures].join('\n'));
    print('');
    print(formatGoals(goals));
    print('(goals are information only; the run does not fail on them)');
    for (const server of servers.processes) {
      const note = serverOutputNote(server.name, server.output());
      if (note) notes.push(note);
    }
    for (const note of notes) print(`note: ${note}`);

    const report: SessionReport = {
      generatedAt: new Date().toISOString(),
      machine,
      settings: {
        secondsPerCell: options.seconds,
        warmupSeconds: options.warmupSeconds,
        stores: options.stores,
        procs: options.procs,
        ids: options.ids,
        idsPerProcess: options.idsPerProcess,
        seed: options.seed,
        transport: options.transport,
        gatewayArgs: options.gatewayArgs,
        order: workloads.map((w, i) => ({ ...w, stores: orders[i] })),
      },
      cells,
      goals,
      notes,
    };
    await writeFile(options.jsonPath, reportJson(report));
    print(`\nwritten to ${options.jsonPath}; whole run ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return report;
  });
}

await runAsScript(import.meta.url, () => runSessionBench(optionsFromEnv()));
