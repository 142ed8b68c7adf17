// Part 3 of the comparison: thousands of connections held open while 16 of them carry load,
// and a client that pipelines gets without ever reading, each with the gateway's RSS.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad, type LoadResult, type LoadSpec } from './load.js';
import { rssKb, serverStats, type ServerProcess } from './processes.js';

export interface ConnectionScaleOptions {
  gateway: ServerProcess;
  /** Connections open at once, the loaded ones included. */
  totalConnections: number;
  loadConnections: number;
  /** The load through the loaded connections (target, workload, timings). */
  load: Omit<LoadSpec, 'connections'>;
  /** Gets the non-reading client pipelines. */
  slowReaderRequests: number;
  slowReaderSeconds: number;
  log: (line: string) => void;
}

export interface ConnectionScaleResult {
  totalConnections: number;
  idleRequested: number;
  idleOpened: number;
  idleConnectFailures: number;
  rssBeforeKb: number;
  rssWithIdleKb: number;
  rssPeakUnderLoadKb: number;
  rssAfterCloseKb: number;
  /** The gateway's own count (stats curr_connections) with the idle ones open; null if not reported. */
  gatewayCurrConnections: number | null;
  loadAlone: LoadResult;
  loadWithIdle: LoadResult;
  /** Idle connections asked `version` after the load, and how many answered. */
  idleProbed: number;
  idleAnswered: number;
  slowReader: SlowReaderResult;
}

export interface SlowReaderResult {
  requestsSent: number;
  requestBytes: number;
  /** Request bytes never handed to the kernel: neither the gateway nor the socket buffers took them. */
  requestBytesUnsent: number;
  /** Gets the gateway executed for it (its cmd_get went up by this, the other client's get aside). */
  getsExecuted: number | null;
  rssBeforeKb: number;
  rssPeakKb: number;
  rssGrowthKb: number;
  rssAfterKb: number;
  /** Another connection's get while the slow reader is stuck, in ms (NaN: no answer in 5 s). */
  otherClientGetMs: number;
}

function openIdle(port: number, timeoutMs = 10_000): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

/** Sends `version` and waits for the line; false on close, error or after timeoutMs. */
function probe(socket: net.Socket, timeoutMs = 5000): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    let received = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(ok);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n')) done(received.startsWith('VERSION '));
    };
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.write('version\r\n');
  });
}

/** Samples the gateway's RSS every intervalMs until stop() and returns the largest value. */
function rssSampler(pid: number, intervalMs = 200): { stop(): number } {
  let peak = rssKb(pid);
  const timer = setInterval(() => {
    const now = rssKb(pid);
    if (now > peak || Number.isNaN(peak)) peak = now;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssKb(pid));
    },
  };
}

/** One `get` on a fresh text connection: milliseconds to END, NaN when none in timeoutMs. */
async function timedGet(port: number, key: string, timeoutMs = 5000): Promise<number> {
  const socket = await openIdle(port);
  if (!socket) return Number.NaN;
  const started = performance.now();
  const ok = await new Promise<boolean>((resolve) => {
    let received = '';
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.endsWith('END\r\n')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
    socket.write(`get ${key}\r\n`);
  });
  socket.destroy();
  return ok ? performance.now() - started : Number.NaN;
}

async function slowReader(options: ConnectionScaleOptions): Promise<SlowReaderResult> {
  const { gateway, load } = options;
  const rssBeforeKb = rssKb(gateway.pid);
  const cmdGet = async () => {
    const value = (await serverStats(gateway.port)).get('cmd_get');
    return value === undefined ? null : Number(value);
  };
  const getsBefore = await cmdGet();
  const socket = await openIdle(gateway.port);
  if (!socket) throw new Error('slow reader: could not connect');
  socket.pause(); // never read: the gateway's replies pile up in the kernel, then in the gateway
  const keys = Array.from({ length: options.slowReaderRequests }, (_, i) => `get ${load.keyPrefix}${i % load.keyCount}\r\n`);
  const requests = Buffer.from(keys.join(''), 'latin1');
  const sampler = rssSampler(gateway.pid);
  // Written in pieces as the socket drains, so that what the kernel took is known: a write's
  // callback runs once its bytes are handed to the kernel.
  let offset = 0;
  let flushed = 0;
  let stopped = false;
  const pump = () => {
    while (!stopped && offset < requests.length) {
      const piece = requests.subarray(offset, offset + 65536);
      offset += piece.length;
      const more = socket.write(piece, (error) => {
        if (!error) flushed += piece.length;
      });
      if (!more) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
  await sleep(Math.max(1, options.slowReaderSeconds / 2) * 1000);
  const otherClientGetMs = await timedGet(gateway.port, `${load.keyPrefix}0`);
  await sleep(Math.max(1, options.slowReaderSeconds / 2) * 1000);
  const rssPeakKb = sampler.stop();
  stopped = true;
  const requestBytesUnsent = requests.length - flushed;
  const getsAfter = await cmdGet();
  socket.destroy();
  await sleep(1000);
  return {
    requestsSent: options.slowReaderRequests,
    requestBytes: requests.length,
    requestBytesUnsent,
    getsExecuted: getsBefore === null || getsAfter === null ? null : getsAfter - getsBefore - (Number.isNaN(otherClientGetMs) ? 0 : 1),
    rssBeforeKb,
    rssPeakKb,
    rssGrowthKb: rssPeakKb - rssBeforeKb,
    rssAfterKb: rssKb(gateway.pid),
    otherClientGetMs,
  };
}

export async function measureConnectionScale(options: ConnectionScaleOptions): Promise<ConnectionScaleResult> {
  const { gateway, log } = options;
  const spec: LoadSpec = { ...options.load, connections: options.loadConnections };
  log(`  load through ${options.loadConnections} connections alone (after an unmeasured warm-up run) …`);
  await runLoad({ ...spec, seconds: Math.min(spec.seconds, 2) });
  const loadAlone = await runLoad(spec);
  const rssBeforeKb = rssKb(gateway.pid);

  const idleRequested = Math.max(0, options.totalConnections - options.loadConnections);
  log(`  opening ${idleRequested} idle connections …`);
  const idle: net.Socket[] = [];
  let idleConnectFailures = 0;
  try {
    const batch = 250;
    for (let i = 0; i < idleRequested; i += batch) {
      const opened = await Promise.all(Array.from({ length: Math.min(batch, idleRequested - i) }, () => openIdle(gateway.port)));
      for (const socket of opened) {
        if (socket) idle.push(socket);
        else idleConnectFailures++;
      }
    }
    await sleep(1000);
    const rssWithIdleKb = rssKb(gateway.pid);
    const curr = (await serverStats(gateway.port)).get('curr_connections');
    // minus the stats connection itself
    const gatewayCurrConnections = curr === undefined ? null : Number(curr) - 1;

    log(`  load through ${options.loadConnections} connections with ${idle.length} idle ones open …`);
    const sampler = rssSampler(gateway.pid);
    const loadWithIdle = await runLoad(spec);
    const rssPeakUnderLoadKb = sampler.stop();

    const step = Math.max(1, Math.floor(idle.length / 50));
    const probed = idle.filter((_, i) => i % step === 0).slice(0, 50);
    const answers = await Promise.all(probed.map((socket) => probe(socket)));

    for (const socket of idle.splice(0)) socket.destroy();
    await sleep(2000);
    const rssAfterCloseKb = rssKb(gateway.pid);

    log('  a client that pipelines gets and never reads …');
    const slow = await slowReader(options);
    return {
      totalConnections: options.totalConnections,
      idleRequested,
      idleOpened: idleRequested - idleConnectFailures,
      idleConnectFailures,
      rssBeforeKb,
      rssWithIdleKb,
      rssPeakUnderLoadKb,
      rssAfterCloseKb,
      gatewayCurrConnections,
      loadAlone,
      loadWithIdle,
      idleProbed: probed.length,
      idleAnswered: answers.filter(Boolean).length,
      slowReader: slow,
    };
  } finally {
    for (const socket of idle) socket.destroy();
  }
}
