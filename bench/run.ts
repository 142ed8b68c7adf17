// npm run bench: a first, bounded measurement of the text protocol through one gateway on an
// embedded MariaDB on this machine (loopback only). Prints ops/s and latency per workload.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { startApp } from '../src/app.js';
import { loadConfig } from '../src/config/load-config.js';
import { startEmbeddedMariadb } from '../src/embedded/mariadb.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const VALUE = 'x'.repeat(1000);
const KEYS = 1000;

interface Result { ops: number; p50: number; p99: number }

/** Closed-loop clients: each sends one request, waits for its reply, repeats until time is up. */
async function load(port: number, connections: number, op: 'get' | 'set'): Promise<Result> {
  const latencies: number[] = [];
  const end = Date.now() + SECONDS * 1000;
  const client = (id: number) => new Promise<void>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let n = 0;
    let started = 0n;
    let pending = '';
    const terminator = op === 'set' ? '\r\n' : 'END\r\n';
    const send = () => {
      if (Date.now() >= end) {
        socket.destroy();
        resolve();
        return;
      }
      const key = `bench:${(id * 7919 + n++) % KEYS}`;
      started = process.hrtime.bigint();
      socket.write(op === 'set' ? `set ${key} 0 0 ${VALUE.length}\r\n${VALUE}\r\n` : `get ${key}\r\n`);
    };
    socket.on('connect', send);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      if (!pending.endsWith(terminator)) return;
      if (pending.startsWith('SERVER_ERROR')) return reject(new Error(pending.trim()));
      pending = '';
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      send();
    });
  });
  await Promise.all(Array.from({ length: connections }, (_, i) => client(i)));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!;
  return { ops: latencies.length / SECONDS, p50: at(0.5), p99: at(0.99) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function main(): Promise<void> {
  const logger = winston.createLogger({ level: 'warn', transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })] });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-bench-'));
  const db = await startEmbeddedMariadb({ dataDir: dir, port: await freePort(), database: 'bench', logger });
  const app = await startApp(loadConfig({ env: {}, overrides: { listen: { port: 0 }, db: { url: db.url }, log: { level: 'warn' } } }), logger);
  try {
    const { port } = app.address();
    await load(port, 4, 'set'); // fill the keys the gets read
    console.log(`memgate text protocol, one gateway, embedded MariaDB, ${SECONDS} s per row, 1 KB values`);
    console.log('workload  conns     ops/s   p50 ms   p99 ms');
    for (const op of ['get', 'set'] as const) {
      for (const connections of [1, 16]) {
        const r = await load(port, connections, op);
        console.log(`${op.padEnd(8)}  ${String(connections).padStart(5)}  ${r.ops.toFixed(0).padStart(8)}  ${r.p50.toFixed(3).padStart(7)}  ${r.p99.toFixed(3).padStart(7)}`);
      }
    }
  } finally {
    await app.stop();
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
