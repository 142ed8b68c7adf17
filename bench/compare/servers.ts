// Starting what the comparison measures: one embedded MariaDB (with the raw-SQL table loaded),
// the gateway and memcached as their own processes, each pre-loaded with every key. Each
// is owned by the run's lifecycle as soon as it exists.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'winston';
import type { BenchLifecycle } from '../lifecycle.js';
import { startBenchMariadb } from '../mariadb.js';
import type { LoadBase } from './cells.js';
import { benchKeys, benchValue, runLoad, type LoadResult, type MemcacheTarget, type SqlTarget } from './load.js';
import type { ComparisonOptions } from './options.js';
import { startGateway, startMemcached, type ServerProcess } from './processes.js';
import { prepareRawTable } from './raw-sql.js';
import type { TargetName } from './report.js';

export const RAW_TABLE = 'bench_raw';
const GATEWAY_TABLE = 'bench_kv';

export interface ComparisonServers {
  dbUrl: string;
  dbPid: number | null;
  mariadbVersion: string;
  gateway: ServerProcess | null;
  memcached: ServerProcess | null;
}

export interface StartOptions {
  options: ComparisonOptions;
  base: LoadBase;
  lifecycle: BenchLifecycle;
  logger: Logger;
  log: (line: string) => void;
}

/** Sets every key once through a memcached-protocol server. */
function fill(port: number, base: LoadBase): Promise<LoadResult> {
  return runLoad({ ...base, target: { kind: 'memcache', protocol: 'text', port }, workload: 'fill', connections: 4, depth: 32 });
}

/** MariaDB always; memgate when a target or part 3 needs it; memcached when a target does. */
export async function startServers({ options, base, lifecycle, logger, log }: StartOptions): Promise<ComparisonServers> {
  const { own } = lifecycle;
  const dir = await own('temp dir', await mkdtemp(path.join(os.tmpdir(), 'memgate-compare-')), (d) => rm(d, { recursive: true, force: true }));
  log('starting MariaDB …');
  const db = await startBenchMariadb(lifecycle, { dataDir: dir, database: 'bench', logger });

  if (options.targets.includes('raw-sql')) {
    const keys = benchKeys(options.keyCount, base.keyPrefix);
    log(`loading ${keys.length} keys into ${RAW_TABLE} …`);
    await prepareRawTable(db.url, RAW_TABLE, keys, benchValue(options.valueSize));
  }

  let gateway: ServerProcess | null = null;
  if (options.targets.some((t) => t.startsWith('memgate-')) || options.totalConnections > 0) {
    log('starting memgate …');
    gateway = await startComparedGateway(db.url, options, lifecycle);
    const filled = await fill(gateway.port, base);
    if (filled.errors > 0) throw new Error(`loading keys through memgate failed: ${filled.firstError}`);
  }
  let memcached: ServerProcess | null = null;
  if (options.targets.some((t) => t.startsWith('memcached-'))) {
    log('starting memcached …');
    memcached = await own('memcached', await startMemcached(), (m) => m.stop());
    await fill(memcached.port, base);
  }
  return { dbUrl: db.url, dbPid: db.pid, mariadbVersion: db.version, gateway, memcached };
}

/** `memgate serve` on the comparison's table, with the run's extra flags. */
export function startComparedGateway(dbUrl: string, options: Pick<ComparisonOptions, 'gatewayArgs'>, lifecycle: BenchLifecycle): Promise<ServerProcess> {
  return startGateway({ dbUrl, table: GATEWAY_TABLE, extraArgs: options.gatewayArgs })
    .then((gateway) => lifecycle.own('memgate', gateway, (g) => g.stop()));
}

/** Where a target's load goes. */
export function targetOf(servers: ComparisonServers, name: TargetName): MemcacheTarget | SqlTarget {
  switch (name) {
    case 'raw-sql': return { kind: 'sql', url: servers.dbUrl, table: RAW_TABLE };
    case 'memgate-text': return { kind: 'memcache', protocol: 'text', port: servers.gateway!.port };
    case 'memgate-binary': return { kind: 'memcache', protocol: 'binary', port: servers.gateway!.port };
    case 'memcached-text': return { kind: 'memcache', protocol: 'text', port: servers.memcached!.port };
    case 'memcached-binary': return { kind: 'memcache', protocol: 'binary', port: servers.memcached!.port };
  }
}

/** The process serving a target (raw SQL: none, MariaDB counts as the database). */
export function serverPidOf(servers: ComparisonServers, name: TargetName): number | null {
  if (name.startsWith('memgate-')) return servers.gateway!.pid;
  if (name.startsWith('memcached-')) return servers.memcached!.pid;
  return null;
}
