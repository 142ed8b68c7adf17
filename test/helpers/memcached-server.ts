/**
 * Spawns a real memcached (default /usr/bin/memcached) bound to 127.0.0.1 on a
 * free TCP port, for differential tests. UDP is disabled (-U 0).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import process from 'node:process';
import { RawConnection } from './raw-connection.js';

export interface MemcachedServer {
  host: string;
  port: number;
  /** Kills the process and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

export interface StartMemcachedOptions {
  /** Path to the memcached binary (default: $MEMCACHED_BIN or /usr/bin/memcached). */
  binary?: string;
  /** Max time to wait for the server to accept connections (ms, default 10000). */
  startTimeoutMs?: number;
  /** Extra environment variables for the process (e.g. SASL_CONF_PATH for -S). */
  env?: Record<string, string>;
}

const HOST = '127.0.0.1';

/** Asks the OS for a currently free TCP port on 127.0.0.1. */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('could not determine a free port'));
        return;
      }
      const port = addr.port;
      srv.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hasUserFlag(args: readonly string[]): boolean {
  return args.some((a) => a === '-u' || a.startsWith('-u') || a === '--user' || a.startsWith('--user='));
}

async function startOnce(args: readonly string[], opts: StartMemcachedOptions): Promise<MemcachedServer> {
  const binary = opts.binary ?? process.env['MEMCACHED_BIN'] ?? '/usr/bin/memcached';
  const startTimeoutMs = opts.startTimeoutMs ?? 10000;
  const port = await getFreePort();
  const fullArgs = ['-l', HOST, '-p', String(port), '-U', '0'];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && !hasUserFlag(args)) fullArgs.push('-u', 'root');
  fullArgs.push(...args);

  const child: ChildProcess = spawn(binary, fullArgs, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString('utf8');
  });
  let exited = false;
  let exitInfo = '';
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      exitInfo = `code=${String(code)} signal=${String(signal)}`;
      resolve();
    });
    child.once('error', (err) => {
      exited = true;
      exitInfo = `spawn error: ${err.message}`;
      resolve();
    });
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) {
      await exitPromise;
      return;
    }
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, 2000);
      await exitPromise;
      clearTimeout(killTimer);
    }
  };

  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(`memcached exited during startup (${exitInfo}): ${stderr.trim()}`);
    }
    if (await RawConnection.canConnect(port, { host: HOST, connectTimeoutMs: 500 })) {
      return { host: HOST, port, stop };
    }
    await sleep(25);
  }
  await stop();
  throw new Error(`memcached did not accept connections on ${HOST}:${port} within ${startTimeoutMs} ms: ${stderr.trim()}`);
}

/**
 * Starts memcached with `-l 127.0.0.1 -p <free port> -U 0` plus `args`
 * (e.g. ['-F'] or ['-I', '2m']). When running as root, `-u root` is added
 * unless args already contain a user flag. Retries a few times if the chosen
 * port was grabbed by someone else in between.
 */
export async function startMemcached(args: string[] = [], opts: StartMemcachedOptions = {}): Promise<MemcachedServer> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(args, opts);
    } catch (err) {
      lastErr = err;
      const msg = err instanceof Error ? err.message : String(err);
      if (!/bind|Address already in use|failed to listen/i.test(msg)) break;
    }
  }
  throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}
