// The servers the comparison runs against, each its own process on 127.0.0.1: the memgate
// gateway (the real CLI, built in dist/), memcached, and the gateway's resident memory.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { statFields } from '../../src/embedded/process-utils.js';

const HOST = '127.0.0.1';
const CLI = fileURLToPath(new URL('../../src/cli/memgate.js', import.meta.url));

export interface ServerProcess {
  name: string;
  pid: number;
  port: number;
  /** The last few kB of what it wrote to stdout and stderr. */
  output(): string;
  /** SIGTERM, then SIGKILL after a few seconds; idempotent. */
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Whether the server (on a 127.0.0.1 port, or a unix socket's path) answers `version` (text protocol) within timeoutMs. */
export function answersVersion(at: number | string, timeoutMs = 1000): Promise<boolean> {
  return answersLine(at, 'version\r\n', 'VERSION ', timeoutMs);
}

/**
 * Whether the server's first line in reply to `request` starts with `prefix`, within
 * timeoutMs; `at` is a port on 127.0.0.1 or a unix socket's path.
 */
export function answersLine(at: number | string, request: string, prefix: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = typeof at === 'string' ? net.connect({ path: at }) : net.connect({ port: at, host: HOST });
    let received = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n')) done(received.startsWith(prefix));
    });
    socket.once('error', () => done(false));
  });
}

/** Every child we start, so that even an exit we did not plan for takes them along. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts a server and waits until `ready` (default: it answers memcached's `version`) says it
 * serves on `port`; stops it and throws when it exits or stays silent for startTimeoutMs.
 */
export function startProcess(
  name: string, command: string, args: string[], port: number, startTimeoutMs: number,
  ready: (port: number, timeoutMs: number) => Promise<boolean> = answersVersion,
): Promise<ServerProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exitInfo: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
      running.delete(child);
      resolve();
    });
    child.once('error', (error) => {
      exitInfo = `could not be run: ${error.message}`;
      running.delete(child);
      resolve();
    });
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (exitInfo !== undefined) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(killer);
    })());
  const server: ServerProcess = { name, pid: child.pid ?? -1, port, output: () => output, stop };
  return (async () => {
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (exitInfo !== undefined) throw new Error(`${name} ${exitInfo} during start-up:\n${output.trim()}`);
      if (await ready(port, 500)) return server;
      await sleep(50);
    }
    await stop();
    throw new Error(`${name} did not answer on ${HOST}:${port} within ${startTimeoutMs} ms:\n${output.trim()}`);
  })();
}

export interface GatewayOptions {
  dbUrl: string;
  table: string;
  /** Further `memgate serve` flags, e.g. from BENCH_GATEWAY_ARGS. */
  extraArgs?: readonly string[];
}

/** `memgate serve` as an operator runs it; MEMGATE_* settings in our environment reach it. */
export async function startGateway(options: GatewayOptions): Promise<ServerProcess> {
  const port = await freePort();
  // BENCH_GATEWAY_NODE_ARGS: flags for node itself, e.g. --cpu-prof to profile the gateway.
  const nodeArgs = process.env['BENCH_GATEWAY_NODE_ARGS']?.split(/\s+/).filter(Boolean) ?? [];
  const args = [
    ...nodeArgs, CLI, 'serve', '--host', HOST, '--port', String(port), '--db-url', options.dbUrl, '--table', options.table,
    '--log-level', 'warn', ...(options.extraArgs ?? []),
  ];
  return startProcess('memgate', process.execPath, args, port, 60_000);
}

/**
 * memcached on a free port of 127.0.0.1, or on the unix socket `socketPath` (memcached's -s,
 * which turns TCP off; the process's port is then 0).
 */
export async function startMemcached(
  binary = process.env['MEMCACHED_BIN'] ?? '/usr/bin/memcached', socketPath?: string,
): Promise<ServerProcess> {
  const port = socketPath === undefined ? await freePort() : 0;
  const listen = socketPath === undefined ? ['-l', HOST, '-p', String(port)] : ['-s', socketPath, '-a', '0700'];
  const args = [...listen, '-U', '0', '-t', '2', '-m', '256'];
  if (process.getuid?.() === 0) args.push('-u', 'root');
  const ready = (_port: number, timeoutMs: number) => answersVersion(socketPath ?? port, timeoutMs);
  return startProcess('memcached', binary, args, port, 10_000, ready);
}

/** Resident set size of a process in kB (VmRSS in /proc/<pid>/status), NaN if unreadable. */
export function rssKb(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** The soft limit on open files of this process (children inherit it), or Infinity. */
export function openFilesLimit(): number {
  try {
    const match = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!match || match[1] === 'unlimited') return Number.POSITIVE_INFINITY;
    return Number(match[1]);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** The server's `stats` (text protocol) as name → value; empty when it does not answer in time. */
export function serverStats(port: number, timeoutMs = 5000): Promise<Map<string, string>> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: HOST });
    let received = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const stats = new Map<string, string>();
      for (const match of received.matchAll(/^STAT (\S+) (.*)\r$/gm)) stats.set(match[1]!, match[2]!);
      resolve(stats);
    };
    const timer = setTimeout(done, timeoutMs);
    socket.once('connect', () => socket.write('stats\r\n'));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.endsWith('END\r\n')) done();
    });
    socket.once('error', done);
  });
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds a process has used so far, from /proc/<pid>/stat; NaN if unreadable. */
function cpuSeconds(pid: number, part: 'all' | 'system'): number {
  try {
    const fields = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const ticks = part === 'system' ? Number(fields[12]) : Number(fields[11]) + Number(fields[12]);
    return ticks / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds (user + system) a process has used so far; NaN if unreadable. */
export function processCpuSeconds(pid: number): number {
  return cpuSeconds(pid, 'all');
}

/** CPU seconds a process has spent in the kernel so far; NaN if unreadable. */
export function systemCpuSeconds(pid: number): number {
  return cpuSeconds(pid, 'system');
}

/** The pid in a pid file, or null. */
export function pidFromFile(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** A command's trimmed output, or null when it cannot be run or fails. */
export function tryRun(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}
