// One slice of one cell: N clients, each on its own database connection, do page views back to
// back (closed loop) for a while; the database's counters and CPU are read around the measured
// window. A busy lock is tried again after a short pause, as php-memcached does (it waits 150 ms).
import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabaseEndpoint } from '../../src/store/db-url.js';
import { rowsOf } from '../../src/store/sql/results.js';
import { SqlSession } from '../../src/store/sql-session.js';
import { processCpuSeconds } from '../compare/processes.js';
import { Samples } from '../compare/stats.js';
import { dataStatements, sessionSetup, type PageView, type ViewClient } from './designs.js';
import { GroupWriter } from './group-writer.js';
import { sessionId, type Cell, type SliceResult } from './plan.js';

/** Short, so the contended cells measure the database's side of a busy lock, not the pause. */
export const BUSY_RETRY_MS = 2;
/** memgate's coalesce.maxWritesInFlight default: merged writes (design D) running at once. */
export const GROUP_WRITES_IN_FLIGHT = 2;

export interface SliceContext {
  endpoint: DatabaseEndpoint;
  /** reads the counters; nothing else runs on it during a slice */
  admin: SqlSession;
  dbPid: number;
  table: string;
  views: Record<Cell['design'], PageView>;
  gatewayId: string;
  value: Buffer;
  nextCas: () => bigint;
  nextConnId: () => number;
}

interface Counters {
  fsyncs: number;
  commits: number;
  cpuSeconds: number;
  at: number;
}

/**
 * The redo log's fsyncs: Innodb_os_log_fsyncs where the server has it (MySQL, MariaDB before
 * 10.8); MariaDB 10.8+ dropped it and counts them in Innodb_data_fsyncs (one per durable commit).
 */
export function fsyncCounter(names: readonly string[]): string {
  return names.includes('Innodb_os_log_fsyncs') ? 'Innodb_os_log_fsyncs' : 'Innodb_data_fsyncs';
}

async function counters(ctx: SliceContext): Promise<Counters> {
  const rows = rowsOf<{ Variable_name: string; Value: string }>(await ctx.admin.query(
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_os_log_fsyncs', 'Innodb_data_fsyncs', 'Handler_commit')",
  ));
  const value = (name: string) => Number(rows.find((r) => r.Variable_name === name)?.Value ?? Number.NaN);
  return {
    fsyncs: value(fsyncCounter(rows.map((r) => r.Variable_name))),
    commits: value('Handler_commit'),
    cpuSeconds: processCpuSeconds(ctx.dbPid),
    at: performance.now(),
  };
}


async function openSession(ctx: SliceContext, setup: readonly string[]): Promise<SqlSession> {
  const session = await SqlSession.open({ endpoint: ctx.endpoint, connectTimeoutMs: 10_000, wsrepSyncWait: 0 });
  for (const statement of setup) await session.query(statement);
  return session;
}

export async function runSlice(ctx: SliceContext, cell: Cell, seconds: number, warmupSeconds: number): Promise<SliceResult> {
  const setup = sessionSetup(cell.design);
  const sessions = await Promise.all(Array.from({ length: cell.clients }, () => openSession(ctx, setup)));
  const writers = cell.design === 'D' ? await Promise.all(Array.from({ length: GROUP_WRITES_IN_FLIGHT }, () => openSession(ctx, []))) : [];
  const writer = writers.length > 0 ? new GroupWriter(writers, dataStatements(ctx.table).setMany) : undefined;
  const samples = new Samples();
  const tally = { attempts: 0, busy: 0, errors: 0, firstError: undefined as string | undefined };
  let measuring = false;
  let stopped = false;
  let windowEnd = Number.POSITIVE_INFINITY;

  const view = ctx.views[cell.design];
  const runClient = async (session: SqlSession, index: number) => {
    const client: ViewClient = { session, gatewayId: ctx.gatewayId, connId: ctx.nextConnId(), value: ctx.value, nextCas: ctx.nextCas, writer };
    const sid = sessionId(cell, index);
    while (!stopped) {
      const started = performance.now();
      let done = false;
      while (!done && !stopped) {
        const counted = measuring;
        try {
          done = await view(client, sid);
        } catch (error) {
          if (counted) tally.errors++;
          tally.firstError ??= (error as Error).message;
          await session.query('ROLLBACK').catch(() => undefined);
          await sleep(10);
          break;
        }
        if (counted) tally.attempts++;
        if (!done) {
          if (counted) tally.busy++;
          await sleep(BUSY_RETRY_MS);
        }
      }
      const ended = performance.now();
      if (done && measuring && ended <= windowEnd) samples.push(ended - started);
    }
  };

  try {
    const clients = sessions.map((session, i) => runClient(session, i));
    await sleep(warmupSeconds * 1000);
    const before = await counters(ctx);
    measuring = true;
    await sleep(seconds * 1000);
    const after = await counters(ctx);
    windowEnd = after.at;
    measuring = false;
    stopped = true;
    await Promise.all(clients);
    return {
      seconds: (after.at - before.at) / 1000,
      samples: samples.view().slice(),
      attempts: tally.attempts,
      busy: tally.busy,
      errors: tally.errors,
      firstError: tally.firstError,
      fsyncs: after.fsyncs - before.fsyncs,
      commits: after.commits - before.commits,
      cpuSeconds: after.cpuSeconds - before.cpuSeconds,
      merged: writer && { ...writer.counts },
    };
  } finally {
    stopped = true;
    for (const session of [...sessions, ...writers]) session.destroy();
  }
}
