// The load generator of every benchmark: closed-loop clients that keep `depth` requests
// outstanding per connection (memcached protocols), or `depth` callers per pool connection (raw
// mysql2: the protocol cannot pipeline, so the extra callers wait in mysql2's pool queue). A
// request's latency runs from just before its write to the moment its whole reply is parsed.
// The comparison runs it in a worker thread (runLoad, see load-worker.ts), off the
// orchestrator's loop; the sweep benchmark runs it on the loop of its in-process gateway
// (runLoadHere), as that gateway's clients.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import mysql from 'mysql2/promise';
import { replyParser, getRequest, setRequest, type Protocol, type ReplyKind } from './memcache-protocol.js';
import { rawStatements } from './raw-sql.js';
import { Samples, summarize } from './stats.js';

export type Workload = 'get' | 'set' | 'mix';

export interface MemcacheTarget {
  kind: 'memcache';
  protocol: Protocol;
  port: number;
}

export interface SqlTarget {
  kind: 'sql';
  url: string;
  table: string;
}

export interface LoadSpec {
  target: MemcacheTarget | SqlTarget;
  /**
   * fill: every key set once, spread over the connections, untimed (pre-loading).
   * alternate: each connection's requests are get, set, get, set …
   */
  workload: Workload | 'fill' | 'alternate';
  connections: number;
  /** Requests outstanding per connection; for the SQL target, callers per pool connection. */
  depth: number;
  seconds: number;
  warmupSeconds: number;
  keyCount: number;
  keyPrefix: string;
  valueSize: number;
  /** Share of gets in the mix workload. */
  mixGetShare?: number;
  /** Varies the keys each connection picks (slices of one interleaved cell use different ones). */
  seed?: number;
  /**
   * random (default): each key drawn from a seeded source. stride: connection i's n-th request
   * takes key (i × 7919 + n) mod keyCount, so that every connection walks every key in turn.
   */
  keyOrder?: 'random' | 'stride';
  /** Return every latency sample, for merging slices (interleaved cells). */
  keepSamples?: boolean;
}

export interface LoadResult {
  /** Replies completed inside the measured window. */
  ops: number;
  measuredSeconds: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  hits: number;
  misses: number;
  stored: number;
  errors: number;
  firstError?: string;
  /** every latency of the measured window (ms), with spec.keepSamples */
  samples?: Float64Array;
}

export function benchKeys(count: number, prefix: string): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}

/** The value every set writes: `size` printable bytes. */
export function benchValue(size: number): Buffer {
  const value = Buffer.alloc(size);
  for (let i = 0; i < size; i++) value[i] = 0x61 + (i % 26);
  return value;
}

/** xorshift32: a cheap, seeded source so every run picks the same keys. */
export function random(seed: number): () => number {
  let x = (seed * 2654435761) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

type Op = { kind: 'get' | 'set'; key: string };

/** The operations one connection issues; null when it has nothing more to do (fill). */
function opSource(spec: LoadSpec, connection: number, keys: readonly string[]): () => Op | null {
  if (spec.workload === 'fill') {
    let next = connection;
    return () => {
      if (next >= keys.length) return null;
      const key = keys[next]!;
      next += spec.connections;
      return { kind: 'set', key };
    };
  }
  const rnd = random(connection + 1 + (spec.seed ?? 0) * 7919);
  const getShare = spec.workload === 'get' ? 1 : spec.workload === 'set' ? 0 : spec.mixGetShare ?? 0.9;
  let n = 0;
  const pickKey = spec.keyOrder === 'stride'
    ? () => keys[(connection * STRIDE + n) % keys.length]!
    : () => keys[Math.floor(rnd() * keys.length)]!;
  return () => {
    const kind = spec.workload === 'alternate'
      ? (n % 2 === 0 ? 'get' : 'set')
      : getShare === 1 || (getShare > 0 && rnd() < getShare) ? 'get' : 'set';
    const op: Op = { kind, key: pickKey() };
    n++;
    return op;
  };
}

const STRIDE = 7919;

/** Measurement window and the tally of what completed inside it. */
class Recorder {
  readonly samples = new Samples();
  hits = 0;
  misses = 0;
  stored = 0;
  errors = 0;
  firstError: string | undefined;
  measureFrom = Number.POSITIVE_INFINITY;
  stopAt = Number.POSITIVE_INFINITY;

  start(warmupSeconds: number, seconds: number): void {
    const now = performance.now();
    this.measureFrom = now + warmupSeconds * 1000;
    this.stopAt = this.measureFrom + seconds * 1000;
  }

  get running(): boolean {
    return performance.now() < this.stopAt;
  }

  /** Ends the window now: requests in flight still complete, none are issued after them. */
  stop(): void {
    this.stopAt = Math.min(this.stopAt, Math.max(this.measureFrom, performance.now()));
  }

  /** Errors count wherever they happen: a warm-up full of errors must not look clean. */
  record(op: 'get' | 'set', kind: ReplyKind, issuedAt: number, detail: string): void {
    const now = performance.now();
    if (kind === 'error') {
      this.errors++;
      this.firstError ??= detail;
      return;
    }
    if (now < this.measureFrom || now > this.stopAt) return;
    this.samples.push(now - issuedAt);
    if (op === 'set') this.stored++;
    else if (kind === 'ok') this.hits++;
    else this.misses++;
  }

  result(keepSamples = false): LoadResult {
    const measuredSeconds = Number.isFinite(this.stopAt) ? (this.stopAt - this.measureFrom) / 1000 : 0;
    return {
      ...(keepSamples ? { samples: this.samples.view().slice() } : {}),
      ...loadResult(this.samples.view(), measuredSeconds, this),
    };
  }
}

export type Tally = Pick<LoadResult, 'hits' | 'misses' | 'stored' | 'errors' | 'firstError'>;

/** A cell's figures from its latencies (ms, any order) and what it counted. */
export function loadResult(latencies: ArrayLike<number>, measuredSeconds: number, tally: Tally): LoadResult {
  const latency = summarize(latencies);
  return {
    ops: latency.count,
    measuredSeconds,
    opsPerSecond: measuredSeconds > 0 ? latency.count / measuredSeconds : 0,
    p50Ms: latency.p50,
    p99Ms: latency.p99,
    maxMs: latency.max,
    hits: tally.hits,
    misses: tally.misses,
    stored: tally.stored,
    errors: tally.errors,
    firstError: tally.firstError,
  };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** One memcached-protocol connection keeping `depth` requests in flight until time is up. */
function driveConnection(
  socket: net.Socket, spec: LoadSpec, target: MemcacheTarget, next: () => Op | null, value: Buffer, rec: Recorder,
): Promise<void> {
  return new Promise((resolve) => {
    const issued: Array<{ op: 'get' | 'set'; at: number }> = [];
    let head = 0;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      resolve();
    };
    const issue = (): boolean => {
      const op = next();
      if (op === null) return false;
      issued.push({ op: op.kind, at: performance.now() });
      socket.write(op.kind === 'get' ? getRequest(target.protocol, op.key) : setRequest(target.protocol, op.key, value));
      return true;
    };
    const parser = replyParser(target.protocol, (kind, detail) => {
      const request = issued[head++];
      if (!request) throw new Error(`a reply nobody asked for: ${detail}`);
      rec.record(request.op, kind, request.at, detail);
      if (rec.running) issue();
    });
    socket.on('data', (chunk: Buffer) => {
      socket.cork();
      try {
        parser.push(chunk);
      } catch (error) {
        rec.record('get', 'error', 0, (error as Error).message);
        finish();
        return;
      } finally {
        socket.uncork();
      }
      if (head === issued.length) finish();
      else if (head > 4096) {
        issued.splice(0, head);
        head = 0;
      }
    });
    const lost = (error?: Error) => {
      if (finished) return;
      if (head < issued.length) rec.record('get', 'error', 0, `connection lost with ${issued.length - head} replies due${error ? `: ${error.message}` : ''}`);
      finish();
    };
    socket.on('error', lost);
    socket.on('close', () => lost());
    socket.cork();
    let started = 0;
    while (started < spec.depth && issue()) started++;
    socket.uncork();
    if (started === 0) finish();
  });
}

async function runMemcache(spec: LoadSpec, target: MemcacheTarget, signal?: AbortSignal): Promise<LoadResult> {
  const keys = benchKeys(spec.keyCount, spec.keyPrefix);
  const value = benchValue(spec.valueSize);
  const sockets = await Promise.all(Array.from({ length: spec.connections }, () => connect(target.port)));
  const rec = new Recorder();
  rec.start(spec.workload === 'fill' ? 0 : spec.warmupSeconds, spec.workload === 'fill' ? 3600 : spec.seconds);
  stopOn(signal, rec);
  await Promise.all(sockets.map((socket, i) => driveConnection(socket, spec, target, opSource(spec, i, keys), value, rec)));
  return rec.result(spec.keepSamples);
}

async function runSql(spec: LoadSpec, target: SqlTarget, signal?: AbortSignal): Promise<LoadResult> {
  const keys = benchKeys(spec.keyCount, spec.keyPrefix);
  const value = benchValue(spec.valueSize);
  const sql = rawStatements(target.table);
  const pool = mysql.createPool({ uri: target.url, connectionLimit: spec.connections, maxIdle: spec.connections });
  try {
    // Open every connection before the clock starts.
    const opened = await Promise.all(Array.from({ length: spec.connections }, () => pool.getConnection()));
    for (const c of opened) c.release();
    const rec = new Recorder();
    let cas = 1;
    rec.start(spec.warmupSeconds, spec.seconds);
    stopOn(signal, rec);
    const loop = async (connection: number) => {
      const next = opSource(spec, connection, keys);
      while (rec.running) {
        const op = next();
        if (op === null) return;
        const at = performance.now();
        try {
          if (op.kind === 'get') {
            const [rows] = await pool.execute(sql.get, [op.key]);
            rec.record('get', (rows as unknown[]).length > 0 ? 'ok' : 'miss', at, '');
          } else {
            await pool.execute(sql.set, [op.key, value, 0, cas++, 0]);
            rec.record('set', 'ok', at, '');
          }
        } catch (error) {
          rec.record(op.kind, 'error', at, (error as Error).message);
        }
      }
    };
    await Promise.all(Array.from({ length: spec.connections * spec.depth }, (_, i) => loop(i)));
    return rec.result(spec.keepSamples);
  } finally {
    await pool.end();
  }
}

function stopOn(signal: AbortSignal | undefined, rec: Recorder): void {
  if (signal?.aborted) rec.stop();
  else signal?.addEventListener('abort', () => rec.stop(), { once: true });
}

/**
 * Runs one cell in this thread (the worker calls this). signal: ends the measured window
 * early, e.g. a load of `seconds: Infinity` that lasts as long as something else runs.
 */
export function runLoadHere(spec: LoadSpec, options: { signal?: AbortSignal } = {}): Promise<LoadResult> {
  return spec.target.kind === 'sql' ? runSql(spec, spec.target, options.signal) : runMemcache(spec, spec.target, options.signal);
}

/**
 * Runs one cell in a fresh worker thread; bounded by the cell's own length plus a margin.
 * onReady: called once the worker has loaded its modules and starts connecting.
 */
export function runLoad(spec: LoadSpec, options: { timeoutMs?: number; onReady?: () => void } = {}): Promise<LoadResult> {
  const timeoutMs = options.timeoutMs ?? (spec.warmupSeconds + spec.seconds) * 1000 + 60_000;
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./load-worker.js', import.meta.url), { workerData: spec });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      settle(() => reject(new Error(`load cell did not finish within ${timeoutMs} ms`)));
      void worker.terminate();
    }, timeoutMs);
    worker.on('message', (message: 'ready' | LoadResult) => {
      if (message === 'ready') options.onReady?.();
      else settle(() => resolve(message));
    });
    worker.once('error', (error) => settle(() => reject(error)));
    worker.once('exit', (code) => settle(() => reject(new Error(`load worker exited with code ${code} before reporting`))));
  });
}
