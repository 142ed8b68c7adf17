// The cost of metrics on the hot path: get and set at 16 connections, depth 1 and 4, against
// two `memgate serve` processes on one database and table, one with an admin listener
// (metrics on: per-command counts, durations and database statement times) and one without.
// Each cell is measured off, on, on, off, so that drift of the machine falls on both sides.
import { request } from 'node:http';
import type { Workload } from './compare/load.js';
import { runLoad, type LoadResult, type LoadSpec } from './compare/load.js';
import { freePort, processCpuSeconds, startGateway, type ServerProcess } from './compare/processes.js';
import type { BenchLifecycle } from './lifecycle.js';

export interface MetricsOverheadOptions {
  dbUrl: string;
  seconds: number;
  warmupSeconds: number;
  log: (line: string) => void;
}

const CONNECTIONS = 16;
const DEPTHS = [1, 4];
const WORKLOADS: Workload[] = ['get', 'set'];
const KEYS = 10_000;
const VALUE_BYTES = 1024;
const TABLE = 'bench_metrics';

interface Side {
  ops: number[];
  p99: number[];
  /** the gateway's CPU time per reply, µs: steadier than ops/s on a shared machine */
  cpuUs: number[];
}

export async function metricsOverhead(options: MetricsOverheadOptions, { own }: Pick<BenchLifecycle, 'own'>): Promise<void> {
  const adminPort = await freePort();
  const off = await own('gateway, metrics off', await startGateway({ dbUrl: options.dbUrl, table: TABLE }), (g) => g.stop());
  const on = await own('gateway, metrics on', await startGateway({
    dbUrl: options.dbUrl, table: TABLE, extraArgs: ['--admin-port', String(adminPort)],
  }), (g) => g.stop());
  const spec = (gateway: ServerProcess, workload: LoadSpec['workload'], depth: number): LoadSpec => ({
    target: { kind: 'memcache', protocol: 'text', port: gateway.port },
    workload, connections: CONNECTIONS, depth, seconds: options.seconds, warmupSeconds: options.warmupSeconds,
    keyCount: KEYS, keyPrefix: 'metrics:', valueSize: VALUE_BYTES,
  });
  await measured(runLoad(spec(off, 'fill', 1))); // the keys the gets read

  console.log('');
  console.log(`metrics on/off: ${CONNECTIONS} connections, text protocol, ${VALUE_BYTES}-byte values, ${options.seconds} s per run, runs off-on-on-off`);
  console.log('cell               ops/s off   ops/s on   on/off   p99 ms off  p99 ms on   CPU µs/op off  CPU µs/op on');
  for (const workload of WORKLOADS) {
    for (const depth of DEPTHS) {
      options.log(`metrics overhead: ${workload} depth ${depth}`);
      const sides: Record<'off' | 'on', Side> = { off: { ops: [], p99: [], cpuUs: [] }, on: { ops: [], p99: [], cpuUs: [] } };
      for (const [name, gateway] of [['off', off], ['on', on], ['on', on], ['off', off]] as const) {
        const cpuBefore = processCpuSeconds(gateway.pid);
        const result = await measured(runLoad(spec(gateway, workload, depth)));
        // The CPU of the warm-up counts too, as much on both sides.
        const cpuUs = ((processCpuSeconds(gateway.pid) - cpuBefore) * 1e6) / (result.ops * (1 + options.warmupSeconds / options.seconds));
        sides[name].ops.push(result.opsPerSecond);
        sides[name].p99.push(result.p99Ms);
        sides[name].cpuUs.push(cpuUs);
      }
      const [opsOff, opsOn] = [mean(sides.off.ops), mean(sides.on.ops)];
      console.log(`${`${workload} depth ${depth}`.padEnd(16)}  ${opsOff.toFixed(0).padStart(10)} ${opsOn.toFixed(0).padStart(10)}  ${(opsOn / opsOff).toFixed(3).padStart(7)}  ` +
        `${mean(sides.off.p99).toFixed(3).padStart(11)} ${mean(sides.on.p99).toFixed(3).padStart(10)}  ` +
        `${mean(sides.off.cpuUs).toFixed(1).padStart(14)} ${mean(sides.on.cpuUs).toFixed(1).padStart(13)}`);
    }
  }
  const text = await scrape(adminPort);
  const counted = [...text.matchAll(/^memgate_commands_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  console.log(`metrics on: /metrics answered ${text.length} bytes, memgate_commands_total sums to ${counted}`);
}

async function measured(load: Promise<LoadResult>): Promise<LoadResult> {
  const result = await load;
  if (result.errors > 0) throw new Error(`${result.errors} requests failed, the first: ${result.firstError}`);
  return result;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/metrics', timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => {
        if (res.statusCode === 200) resolve(body);
        else reject(new Error(`/metrics answered ${res.statusCode}`));
      });
    }).on('error', reject).end();
  });
}
