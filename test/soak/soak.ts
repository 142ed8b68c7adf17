/**
 * Soak with failures: two gateway processes share one table of a private MariaDB and take a
 * mixed load (set, incr, gets+cas on a shared key, ms, ma, and PHP session page views through
 * php-memcached) while, on a schedule, the database restarts and a gateway is SIGKILLed and
 * started again. At the end it checks what clients were told: every acknowledged write is
 * there, and every counter lies between its acknowledged increments and those plus the ones
 * whose reply was lost. It samples each gateway's RSS and open fds (printed as a curve), and
 * checks that RSS stays bounded, fds return to where they started and the database
 * connections in use come back within the pools' size.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { startEmbeddedMariadb, type EmbeddedMariadb } from '../../src/embedded/mariadb.js';
import { findFreePort, testLogger } from '../helpers/database.js';
import { memcachedSettings, newSessionId, outcomeOf, runPhp, startGateways, type GatewayPair } from '../e2e/php-sessions/harness.js';
import { LineClient, untilEnd, type Reply } from './line-client.js';

export interface SoakOptions {
  minutes: number;
  /** text clients, spread over the two gateways */
  clients?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  problems: string[];
  /** the figures: what ran, the failures injected, the RSS and fd curve */
  lines: string[];
}

const POOL_SIZE = 4;

/** Acknowledged and unknown outcomes of one counter. */
interface Counter {
  key: string;
  acked: number;
  unknown: number;
}

interface Tally {
  /** acknowledged writes of unique keys: key → value */
  written: Map<string, string>;
  counters: Counter[];
  ops: number;
  errors: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function count(counter: Counter, reply: Reply, ok: (text: string) => boolean): void {
  if (reply.kind === 'unsent') return;
  if (reply.kind === 'reply' && ok(reply.text)) counter.acked++;
  // A lost reply, or a database error that may have come after the commit: either way.
  else if (reply.kind === 'lost' || reply.text.startsWith('SERVER_ERROR')) counter.unknown++;
}

/** One client's loop: its own counters and keys, and the shared CAS counter. */
async function clientLoop(id: number, port: number, tally: Tally, shared: Counter, stop: () => boolean): Promise<void> {
  const client = new LineClient(port);
  const incr: Counter = { key: `soak:incr:${id}`, acked: 0, unknown: 0 };
  const meta: Counter = { key: `soak:ma:${id}`, acked: 0, unknown: 0 };
  for (const counter of [incr, meta]) {
    while ((await client.request(`set ${counter.key} 0 0 1\r\n0\r\n`)).kind !== 'reply') await sleep(200);
    tally.counters.push(counter);
  }
  for (let n = 0; !stop(); n++) {
    tally.ops++;
    let reply: Reply;
    switch (n % 5) {
      case 0: {
        const key = `soak:set:${id}:${n}`;
        const value = `v${id}-${n}`;
        reply = await client.request(`set ${key} 0 0 ${value.length}\r\n${value}\r\n`);
        if (reply.kind === 'reply' && reply.text === 'STORED\r\n') tally.written.set(key, value);
        break;
      }
      case 1:
        reply = await client.request(`incr ${incr.key} 1\r\n`);
        count(incr, reply, (t) => /^\d+\r\n$/.test(t));
        break;
      case 2: {
        reply = await client.request(`gets ${shared.key}\r\n`, untilEnd);
        const m = reply.kind === 'reply' ? /^VALUE \S+ 0 \d+ (\d+)\r\n(\d+)\r\n/.exec(reply.text) : null;
        if (m) {
          const next = String(Number(m[2]) + 1);
          reply = await client.request(`cas ${shared.key} 0 0 ${next.length} ${m[1]}\r\n${next}\r\n`);
          count(shared, reply, (t) => t === 'STORED\r\n');
        }
        break;
      }
      case 3: {
        const key = `soak:ms:${id}:${n}`;
        const value = `m${id}-${n}`;
        reply = await client.request(`ms ${key} ${value.length}\r\n${value}\r\n`);
        if (reply.kind === 'reply' && reply.text === 'HD\r\n') tally.written.set(key, value);
        break;
      }
      default:
        reply = await client.request(`ma ${meta.key}\r\n`);
        count(meta, reply, (t) => t === 'HD\r\n');
    }
    if (reply.kind !== 'reply' || /^(SERVER_ERROR|CLIENT_ERROR|ERROR)/.test(reply.text)) {
      tally.errors++;
      await sleep(100);
    }
  }
  client.close();
}

/** PHP page views on one session through php-memcached over both gateways; n counts them. */
async function pageViews(ports: number[], sid: string, views: Counter, stop: () => boolean): Promise<void> {
  const settings = memcachedSettings(ports, { 'memcached.sess_lock_wait_max': 2000 });
  for (let i = 0; !stop(); i++) {
    const outcome = outcomeOf(await runPhp(settings, { action: 'incr', sid, marker: `m${i}` }, 20_000));
    if (outcome === 'ok' || outcome === 'warned') views.acked++;
    else {
      views.unknown++;
      await sleep(200);
    }
  }
}

async function sample(pid: number | undefined): Promise<{ rssKb: number; fds: number }> {
  if (pid === undefined) return { rssKb: Number.NaN, fds: Number.NaN };
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
    return { rssKb: rss, fds: (await readdir(`/proc/${pid}/fd`)).length };
  } catch {
    return { rssKb: Number.NaN, fds: Number.NaN };
  }
}

export async function soak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const durationMs = options.minutes * 60_000;
  const problems: string[] = [];
  const lines: string[] = [];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-soak-'));
  const dbOptions = { dataDir: dir, port: await findFreePort(), database: 'soak', logger: testLogger() };
  let db: EmbeddedMariadb = await startEmbeddedMariadb(dbOptions);
  let gateways: GatewayPair | undefined;
  try {
    gateways = await startGateways({ dbUrl: db.url, table: 'soak', extraArgs: ['--pool-size', String(POOL_SIZE)] });
    const pair = gateways;
    const tally: Tally = { written: new Map(), counters: [], ops: 0, errors: 0 };
    const shared: Counter = { key: 'soak:cas', acked: 0, unknown: 0 };
    const setup = new LineClient(pair.ports[0]!);
    await setup.request(`set ${shared.key} 0 0 1\r\n0\r\n`);
    setup.close();
    tally.counters.push(shared);
    const views: Counter = { key: 'php session', acked: 0, unknown: 0 };
    const sid = newSessionId('soak');

    let stopping = false;
    const stop = () => stopping;
    const started = Date.now();
    const elapsed = () => ((Date.now() - started) / 1000).toFixed(0).padStart(5);
    const clients = options.clients ?? 6;
    const loads = [
      ...Array.from({ length: clients }, (_, i) => clientLoop(i, pair.ports[i % 2]!, tally, shared, stop)),
      pageViews(pair.ports, sid, views, stop),
    ];

    // The curve: every few seconds, each gateway's RSS and fds (a restarted one is a new pid).
    const curve: Array<{ t: string; samples: Array<{ rssKb: number; fds: number }> }> = [];
    const sampleEveryMs = Math.max(2000, durationMs / 60);
    const sampler = setInterval(() => {
      void Promise.all(pair.gateways.map((g) => sample(g.child?.pid))).then((samples) => curve.push({ t: elapsed(), samples }));
    }, sampleEveryMs);

    // Failures: per cycle of at most 4 minutes, a database restart, then a gateway SIGKILL.
    const cycles = Math.max(1, Math.ceil(options.minutes / 4));
    const cycleMs = durationMs / cycles;
    const events: string[] = [];
    for (let cycle = 0; cycle < cycles; cycle++) {
      await sleep(cycle * cycleMs + cycleMs / 3 - (Date.now() - started));
      const down = Date.now();
      await db.stop();
      await sleep(1000);
      db = await startEmbeddedMariadb(dbOptions);
      events.push(`${elapsed()} s: database restarted (down ${((Date.now() - down) / 1000).toFixed(1)} s)`);
      log(events[events.length - 1]!);
      await sleep(cycle * cycleMs + (2 * cycleMs) / 3 - (Date.now() - started));
      const victim = pair.gateways[cycle % 2]!;
      await victim.kill('SIGKILL');
      await sleep(500);
      await victim.start();
      events.push(`${elapsed()} s: gateway ${cycle % 2} SIGKILLed and restarted`);
      log(events[events.length - 1]!);
    }
    await sleep(durationMs - (Date.now() - started));
    stopping = true;
    await Promise.all(loads);
    clearInterval(sampler);
    await sleep(1500);
    const end = await Promise.all(pair.gateways.map((g) => sample(g.child?.pid)));
    curve.push({ t: `${elapsed()}`, samples: end });

    lines.push(`soak: ${options.minutes} min, 2 gateways (pool ${POOL_SIZE}), ${clients} text clients + PHP page views`);
    lines.push(`load: ${tally.ops} requests (${tally.errors} failed or lost while things restarted), ${tally.written.size} acknowledged unique writes, ${views.acked} page views (${views.unknown} failed)`);
    lines.push(...events);
    lines.push('    t s   gw0 RSS MB  fds   gw1 RSS MB  fds');
    for (const point of curve) {
      const cells = point.samples.map((s) => `${(s.rssKb / 1024).toFixed(1).padStart(10)} ${String(s.fds).padStart(4)}`);
      lines.push(`  ${point.t}  ${cells.join('  ')}`);
    }

    await verify(pair.ports[1]!, tally, problems);
    await verifyPageViews(pair.ports, sid, views, problems);
    checkCurve(curve, problems);
    await checkDatabaseConnections(db.url, problems, lines);
  } finally {
    await gateways?.stop();
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return { problems, lines };
}

/** Every acknowledged write is there; every counter is within its acknowledged bounds. */
async function verify(port: number, tally: Tally, problems: string[]): Promise<void> {
  const client = new LineClient(port);
  const read = async (keys: string[]): Promise<Map<string, string>> => {
    const reply = await client.request(`get ${keys.join(' ')}\r\n`, untilEnd);
    if (reply.kind !== 'reply') throw new Error(`verification read failed: ${reply.kind}`);
    const found = new Map<string, string>();
    for (const m of reply.text.matchAll(/VALUE (\S+) \d+ \d+\r\n([^\r]*)\r\n/g)) found.set(m[1]!, m[2]!);
    return found;
  };
  const written = [...tally.written];
  let missing = 0;
  for (let i = 0; i < written.length; i += 100) {
    const batch = written.slice(i, i + 100);
    const found = await read(batch.map(([key]) => key));
    for (const [key, value] of batch) {
      if (found.get(key) !== value) {
        missing++;
        if (missing <= 5) problems.push(`acknowledged write of ${key} is ${found.has(key) ? `"${found.get(key)}"` : 'missing'}, not "${value}"`);
      }
    }
  }
  if (missing > 5) problems.push(`… ${missing} acknowledged writes missing or wrong in all`);
  const values = await read(tally.counters.map((c) => c.key));
  for (const counter of tally.counters) {
    const value = Number(values.get(counter.key)?.trim());
    if (!(value >= counter.acked && value <= counter.acked + counter.unknown)) {
      problems.push(`counter ${counter.key} is ${values.get(counter.key)}, expected ${counter.acked} acknowledged + up to ${counter.unknown} unknown`);
    }
  }
  client.close();
}

async function verifyPageViews(ports: number[], sid: string, views: Counter, problems: string[]): Promise<void> {
  const run = await runPhp(memcachedSettings(ports), { action: 'get', sid }, 20_000);
  const n = Number((run.result?.before as { n?: number } | undefined)?.n ?? 0);
  if (!(n >= views.acked && n <= views.acked + views.unknown)) {
    problems.push(`the session counts ${n} page views, expected ${views.acked} acknowledged + up to ${views.unknown} failed`);
  }
}

/**
 * Bounded RSS: per gateway, the last third of its samples stays under twice the first third's
 * peak (a restarted gateway is judged from its restart). No fd leak: a gateway that ran
 * throughout ends with no more fds than it had at its first sample, plus a few.
 */
function checkCurve(curve: Array<{ samples: Array<{ rssKb: number; fds: number }> }>, problems: string[]): void {
  for (let g = 0; g < 2; g++) {
    const series = curve.map((p) => p.samples[g]!).filter((s) => Number.isFinite(s.rssKb));
    if (series.length < 3) continue;
    const third = Math.max(1, Math.floor(series.length / 3));
    const early = Math.max(...series.slice(0, third).map((s) => s.rssKb));
    const late = Math.max(...series.slice(-third).map((s) => s.rssKb));
    if (late > 2 * early) problems.push(`gateway ${g} RSS grew from ${early} kB to ${late} kB`);
  }
  const first = curve[0]?.samples;
  const last = curve[curve.length - 1]?.samples;
  // Gateway 1 is killed only in even cycles past the first; gateway 0 in the first: judge the
  // one that survived by comparing with its own first sample.
  for (let g = 0; g < 2; g++) {
    const a = first?.[g]?.fds;
    const b = last?.[g]?.fds;
    if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b)) continue;
    if (b > a + 4) problems.push(`gateway ${g} holds ${b} fds at the end, ${a} at the start`);
  }
}

/** Once the load has stopped, the gateways hold no more database connections than their pools. */
async function checkDatabaseConnections(url: string, problems: string[], lines: string[]): Promise<void> {
  const connection = await mysql.createConnection(url);
  try {
    const [rows] = await connection.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = 'soak' AND ID <> CONNECTION_ID()");
    const n = Number((rows as Array<{ n: number }>)[0]!.n);
    lines.push(`database connections of the gateways after the load: ${n} (pools: 2 × ${POOL_SIZE})`);
    if (n > 2 * POOL_SIZE) problems.push(`${n} database connections after the load, more than the pools' ${2 * POOL_SIZE}`);
  } finally {
    await connection.end();
  }
}
