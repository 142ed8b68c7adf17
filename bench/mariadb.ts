import mysql from 'mysql2/promise';
import type { Logger } from 'winston';
import { layoutFor } from '../src/embedded/layout.js';
import { startEmbeddedMariadb } from '../src/embedded/mariadb.js';
import { freePort, pidFromFile } from './compare/processes.js';
import type { BenchLifecycle } from './lifecycle.js';

export interface BenchMariadb {
  url: string;
  /** the server process, whose CPU the benches read; null when its pid file cannot be read */
  pid: number | null;
  /** SELECT VERSION(), for the report's header */
  version: string;
}

/** A private MariaDB on a free loopback port, with its data in dataDir; the lifecycle stops it. */
export async function startBenchMariadb(
  lifecycle: BenchLifecycle,
  options: { dataDir: string; database: string; logger: Logger; extraServerArgs?: readonly string[] },
): Promise<BenchMariadb> {
  const { dataDir, database, logger, extraServerArgs } = options;
  const db = await lifecycle.own('MariaDB', await startEmbeddedMariadb({
    dataDir, port: await freePort(), database, logger, extraServerArgs,
  }), (d) => d.stop());
  const probe = await mysql.createConnection({ uri: db.url });
  try {
    const [rows] = await probe.query('SELECT VERSION() AS v');
    return { url: db.url, pid: pidFromFile(layoutFor(dataDir).pidFile), version: (rows as Array<{ v: string }>)[0]!.v };
  } finally {
    await probe.end();
  }
}
