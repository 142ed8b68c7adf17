// One cell of the table: a store under one workload. The PHP processes share one timed
// window on the wall clock (views before it are the warm-up); the database's counters and
// the servers' CPU are read just before they start and just after the last one ends.
import type { Connection } from 'mysql2/promise';
import { processCpuSeconds } from '../compare/processes.js';
import type { SessionBenchOptions, StoreName, Workload } from './options.js';
import type { SessionServers } from './servers.js';
import { combineWorkers, cpuUsPerView, DB_COUNTERS, lostIncrements, perView, type SessionCell } from './stats.js';
import { storeAccess, usesMariadb } from './stores.js';
import { readCounter, runViews } from './workers.js';

export interface CellContext {
  servers: SessionServers;
  /** A connection for SHOW GLOBAL STATUS, kept open across cells. */
  statusConnection: Connection;
  options: Pick<SessionBenchOptions, 'seconds' | 'warmupSeconds' | 'idsPerProcess'>;
  /** Keeps the ids of one run apart from another's on a reused store. */
  runTag: string;
}

/**
 * The session ids of each process: its own `perProcess` ids (distinct), or one id for all
 * (shared). Ids are new for every cell, so each cell's sessions start empty.
 */
export function sessionIds(workload: Workload, cellTag: string, perProcess: number): string[][] {
  return Array.from({ length: workload.procs }, (_, p) =>
    workload.ids === 'shared' ? [`${cellTag}shared`] : Array.from({ length: perProcess }, (_, i) => `${cellTag}p${p}i${i}`));
}

async function globalStatus(connection: Connection): Promise<Map<string, number>> {
  const [rows] = await connection.query('SHOW GLOBAL STATUS WHERE Variable_name IN (?)', [DB_COUNTERS]);
  return new Map((rows as Array<{ Variable_name: string; Value: string }>).map((r) => [r.Variable_name, Number(r.Value)]));
}

const cpuOf = (pid: number | null | undefined): number | null => (pid ? processCpuSeconds(pid) : null);

export async function measureCell(store: StoreName, workload: Workload, cellIndex: number, context: CellContext): Promise<SessionCell> {
  const { servers, statusConnection, options } = context;
  const access = storeAccess(store, servers.endpoints);
  const password = store === 'pdo' ? servers.endpoints.pdo!.password : '';
  const idLists = sessionIds(workload, `${context.runTag}c${cellIndex}`, options.idsPerProcess);
  const serverPid = servers.serverPids[store] ?? null;

  const statusBefore = await globalStatus(statusConnection);
  const cpuBefore = { server: cpuOf(serverPid), database: cpuOf(servers.dbPid) };
  const startAtMs = Date.now() + options.warmupSeconds * 1000;
  const runs = await runViews(access, idLists, { startAtMs, endAtMs: startAtMs + options.seconds * 1000 }, password);
  const cpuAfter = { server: cpuOf(serverPid), database: cpuOf(servers.dbPid) };
  const statusAfter = await globalStatus(statusConnection);

  const totals = combineWorkers(runs, options.seconds);
  let finalN: number | null = null;
  let firstProblem = totals.firstProblem;
  if (workload.ids === 'shared') {
    try {
      finalN = await readCounter(access, idLists[0]![0]!, password);
    } catch (error) {
      firstProblem ??= `reading the shared session back: ${(error as Error).message}`;
    }
  }
  const { phpCpuSeconds, ...figures } = totals;
  return {
    store,
    procs: workload.procs,
    ids: workload.ids,
    seconds: options.seconds,
    ...figures,
    firstProblem,
    finalN,
    lostIncrements: lostIncrements(totals.increments, finalN),
    dbPerView: usesMariadb(store) ? perView(DB_COUNTERS, statusBefore, statusAfter, totals.allViews) : null,
    cpuUsPerView: {
      server: cpuUsPerView(cpuBefore.server, cpuAfter.server, totals.allViews),
      database: cpuUsPerView(cpuBefore.database, cpuAfter.database, totals.allViews),
      php: totals.allViews > 0 ? (phpCpuSeconds * 1e6) / totals.allViews : Number.NaN,
    },
  };
}
