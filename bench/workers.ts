// `npm run build && node dist/bench/workers.js`: one gateway with --workers 1 and then 2 against
// the same private MariaDB, under the same closed-loop load (bench/compare's generator), to show
// what a second worker gives on this host. BENCH_SECONDS (default 10) per cell; about 90 s in all.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runLoad, type LoadSpec, type Workload } from './compare/load.js';
import { processCpuSeconds, startGateway } from './compare/processes.js';
import { benchLogger, logLine, runAsScript, withBenchLifecycle } from './lifecycle.js';
import { startBenchMariadb } from './mariadb.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const WARMUP_SECONDS = 3;
const CONNECTIONS = 32;
const DEPTH = 4;
const KEYS = 10_000;
const VALUE_SIZE = 100;
const WORKLOADS: Workload[] = ['get', 'mix'];

/** The pids of a process's children, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).flatMap((name) => {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid ? [Number(name)] : [];
    } catch {
      return [];
    }
  });
}

const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);

async function main(): Promise<void> {
  const logger = benchLogger();
  await withBenchLifecycle({ log: logLine, logger }, async (lifecycle) => {
    const { own } = lifecycle;
    const dir = await own('temp dir', await mkdtemp(path.join(os.tmpdir(), 'memgate-workers-bench-')), (d) => rm(d, { recursive: true, force: true }));
    const db = await startBenchMariadb(lifecycle, { dataDir: dir, database: 'bench', logger });
    const rows: string[] = [];
    for (const workers of [1, 2]) {
      const gateway = await own(`memgate --workers ${workers}`, await startGateway({
        dbUrl: db.url, table: `kv_w${workers}`, extraArgs: ['--workers', String(workers)],
      }), (g) => g.stop());
      const base = {
        target: { kind: 'memcache', protocol: 'text', port: gateway.port },
        keyCount: KEYS, keyPrefix: 'k', valueSize: VALUE_SIZE, warmupSeconds: WARMUP_SECONDS, seconds: SECONDS,
      } satisfies Partial<LoadSpec>;
      await runLoad({ ...base, workload: 'fill', connections: 4, depth: 32, warmupSeconds: 0 });
      for (const workload of WORKLOADS) {
        const processes = [gateway.pid, ...childrenOf(gateway.pid)];
        const before = { gateway: cpuOf(processes), db: db.pid ? processCpuSeconds(db.pid) : Number.NaN, at: Date.now() };
        const result = await runLoad({ ...base, workload, connections: CONNECTIONS, depth: DEPTH });
        const wall = (Date.now() - before.at) / 1000;
        const gatewayCpu = (cpuOf(processes) - before.gateway) / wall;
        const dbCpu = db.pid ? (processCpuSeconds(db.pid) - before.db) / wall : Number.NaN;
        rows.push(`| ${workers} | ${workload} | ${Math.round(result.opsPerSecond)} | ${result.p50Ms.toFixed(2)} | ${result.p99Ms.toFixed(2)} | ` +
          `${gatewayCpu.toFixed(2)} | ${dbCpu.toFixed(2)} | ${result.errors} |`);
        logLine(rows.at(-1)!);
      }
      await gateway.stop();
    }
    console.log(`${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${CONNECTIONS} connections x ${DEPTH} in flight, ` +
      `${KEYS} keys of ${VALUE_SIZE} bytes, ${SECONDS} s per cell; CPU in cores used (gateway: primary and workers)`);
    console.log('| workers | workload | ops/s | p50 ms | p99 ms | gateway CPU | MariaDB CPU | errors |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);
  });
}

await runAsScript(import.meta.url, main);
