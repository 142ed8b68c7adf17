/**
 * What the PHP session tests share: memgate gateways run as real `memgate serve` child
 * processes (so one can be SIGKILLed and restarted on its port), PHP CLI processes running
 * test/php/session-request.php with `php -d` settings, and a bounded-concurrency driver.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '../../helpers/database.js';

const CLI = fileURLToPath(new URL('../../../src/cli/memgate.js', import.meta.url));
export const SESSION_SCRIPT = fileURLToPath(new URL('../../../../test/php/session-request.php', import.meta.url));

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The environment without the MEMGATE_* settings of the test run. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('MEMGATE_')) env[name] = value;
  return env;
}

/** Fails with a hint when php-cli or one of the two extensions is missing. */
export async function requirePhpExtensions(): Promise<void> {
  const modules = await new Promise<string>((resolve, reject) =>
    execFile('php', ['-m'], { timeout: 10_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
  ).catch((error: Error) => {
    throw new Error(`php -m failed (${error.message}); install php-cli php-memcached php-memcache`);
  });
  for (const ext of ['memcached', 'memcache', 'session']) {
    if (!modules.split('\n').includes(ext)) throw new Error(`PHP extension ${ext} missing; install php-cli php-memcached php-memcache`);
  }
}

// ---------------------------------------------------------------- gateways

/** One `memgate serve` child process on a fixed port; kill() and start() again on the same port. */
export class GatewayProcess {
  child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly port: number,
    private readonly args: string[],
    private readonly cwd: string,
  ) {}

  /** Starts the process and waits until it logs that it listens (bounded). */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.running) throw new Error(`gateway on ${this.port} already running`);
    const child = spawn(process.execPath, [CLI, 'serve', '--port', String(this.port), ...this.args], {
      cwd: this.cwd,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let listening = false;
    let wake: (() => void) | null = null;
    let output = '';
    const onData = (chunk: string): void => {
      output += chunk;
      if (!listening && /listening/.test(output)) {
        listening = true;
        wake?.();
      }
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.stderr!.setEncoding('utf8').on('data', onData);
    this.exited = new Promise((resolve) => child.on('close', () => {
      wake?.();
      resolve();
    }));
    const deadline = Date.now() + timeoutMs;
    while (!listening) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gateway on ${this.port} exited: ${output}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        await this.kill();
        throw new Error(`gateway on ${this.port} did not listen within ${timeoutMs} ms: ${output}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL (default) or SIGTERM, then waits for the process to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.child!.kill(signal);
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface GatewayPair {
  gateways: GatewayProcess[];
  ports: number[];
  table: string;
  stop(): Promise<void>;
}

/** `count` gateways on free ports sharing one table; extraArgs go to every `serve`. */
export async function startGateways(options: { dbUrl: string; table: string; count?: number; extraArgs?: string[] }): Promise<GatewayPair> {
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'memgate-php-'));
  const gateways: GatewayProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(gateways.map((g) => g.kill('SIGTERM')));
    await rm(cwd, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < (options.count ?? 2); i++) {
      const args = ['--db-url', options.dbUrl, '--table', options.table, '--log-level', 'info', ...(options.extraArgs ?? [])];
      const gateway = new GatewayProcess(await findFreePort(), args, cwd);
      gateways.push(gateway);
      // One after the other: the first creates the table.
      await gateway.start();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { gateways, ports: gateways.map((g) => g.port), table: options.table, stop };
}

// ---------------------------------------------------------------- PHP settings

export type PhpSettings = Record<string, string | number>;

/** php-memcached's handler on the given gateways (binary protocol, locking: extension defaults). */
export function memcachedSettings(ports: number[], extra: PhpSettings = {}): PhpSettings {
  return {
    'session.save_handler': 'memcached',
    'session.save_path': ports.map((p) => `127.0.0.1:${p}`).join(','),
    ...extra,
  };
}

/** pecl memcache's handler on the given gateways (ASCII, redundancy 2: extension defaults). */
export function memcacheSettings(ports: number[], extra: PhpSettings = {}): PhpSettings {
  return {
    'session.save_handler': 'memcache',
    'session.save_path': ports.map((p) => `tcp://127.0.0.1:${p}`).join(', '),
    ...extra,
  };
}

// ---------------------------------------------------------------- PHP processes

export interface SessionResult {
  action: string;
  started: boolean;
  id: string;
  before?: Record<string, unknown>;
  closed?: boolean;
  old_id?: string;
  regenerated?: boolean;
  destroyed?: boolean;
  warnings: string[];
}

export interface PhpRun {
  result: SessionResult | null;
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Every warning of a run, from the script's collection and from stderr/stdout. */
export function problemsOf(run: PhpRun): string[] {
  const problems = [...(run.result?.warnings ?? [])];
  const outside = (run.stdout.replace(/^(STARTING|LOCKED|RESULT .*)$/gm, '') + run.stderr).trim();
  if (outside) problems.push(outside);
  if (!run.result) problems.push(`no RESULT line (exit ${run.code}, signal ${run.signal})`);
  return problems;
}

export const WRITE_FAILED = /Failed to write session data/;
export const LOCK_STARVED = /Unable to clear session lock record/;

export type Outcome = 'ok' | 'warned' | 'starved' | 'error';

/**
 * ok: started, written, no warning at all. warned: started and written (no "Failed to write
 * session data"), but with warnings on the way, e.g. php-memcached reporting a dead server it
 * then went around. starved: session_start() gave up waiting for the lock (php-memcached's
 * "Unable to clear session lock record") and nothing else went wrong. error: anything else,
 * e.g. a connection failure at start or "Failed to write session data".
 */
export function outcomeOf(run: PhpRun): Outcome {
  const problems = problemsOf(run);
  if (run.result?.started && run.result.closed !== false) {
    if (problems.length === 0) return 'ok';
    if (run.result.closed === true && run.code === 0 && !problems.some((p) => WRITE_FAILED.test(p))) return 'warned';
    return 'error';
  }
  if (run.result && !run.result.started && problems.some((p) => LOCK_STARVED.test(p)) &&
    problems.every((p) => LOCK_STARVED.test(p) || /^session_start\(\): Failed to read session data/.test(p))) {
    return 'starved';
  }
  return 'error';
}

const BASE_SETTINGS: PhpSettings = {
  display_errors: 'stderr',
  log_errors: 0,
  'session.use_cookies': 0,
  'session.cache_limiter': '',
};

function phpArgs(settings: PhpSettings, request: object): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries({ ...BASE_SETTINGS, ...settings })) args.push('-d', `${name}=${value}`);
  return [...args, SESSION_SCRIPT, JSON.stringify(request)];
}

/** A PHP process that can be waited on line by line, fed on stdin and killed. */
export class PhpProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly done: Promise<PhpRun>;
  private waiters: Array<() => void> = [];

  constructor(settings: PhpSettings, request: object, timeoutMs = 30_000) {
    this.child = spawn('php', phpArgs(settings, request), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.child.stdin!.on('error', () => undefined);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    this.done = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        clearTimeout(killer);
        this.notify();
        const line = /^RESULT (.*)$/m.exec(this.stdout);
        resolve({ result: line ? (JSON.parse(line[1]!) as SessionResult) : null, stdout: this.stdout, stderr: this.stderr, code, signal });
      });
    });
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  private notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Waits until stdout has the line `text`; false when the process ends first or on timeout. */
  async waitForLine(text: string, timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const has = (): boolean => this.stdout.split('\n').includes(text);
    while (!has()) {
      if (this.exited) return has();
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }
}

export function runPhp(settings: PhpSettings, request: object, timeoutMs = 30_000): Promise<PhpRun> {
  const php = new PhpProcess(settings, request, timeoutMs);
  php.child.stdin!.end();
  return php.done;
}

/** Runs the tasks with at most `limit` at a time; results in task order. */
export async function runBounded<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

export function newSessionId(tag: string): string {
  // php-memcached accepts [A-Za-z0-9,-]; 32 characters like PHP's own ids.
  return `${tag}${randomBytes(16).toString('hex')}`.slice(0, 32);
}

export function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

// ---------------------------------------------------------------- the increment workload

export interface IncrementTally {
  /** markers of attempts that reported success: each must be in the session exactly once */
  committed: string[];
  /** markers of attempts that failed with an error (they may or may not have been written) */
  uncertain: string[];
  starved: number;
  /** attempts that were written but raised warnings on the way (they are in committed too) */
  warned: number;
  errors: number;
  attempts: number;
  /** the first few error runs, for the failure message */
  errorSamples: string[];
  /** logical requests that never succeeded within maxAttempts */
  gaveUp: number;
}

export function emptyTally(): IncrementTally {
  return { committed: [], uncertain: [], starved: 0, warned: 0, errors: 0, attempts: 0, errorSamples: [], gaveUp: 0 };
}

/**
 * One logical request: increments `sid`, retrying (with a fresh marker per attempt) when
 * session_start() starved on the lock or the attempt failed, up to maxAttempts. An attempt
 * that was written despite warnings is not retried.
 */
export async function incrementWithRetries(
  settings: PhpSettings | ((attempt: number) => PhpSettings),
  sid: string,
  marker: string,
  tally: IncrementTally,
  maxAttempts = 12,
): Promise<void> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const attemptMarker = `${marker}.${attempt}`;
    tally.attempts += 1;
    const run = await runPhp(typeof settings === 'function' ? settings(attempt) : settings, { action: 'incr', sid, marker: attemptMarker });
    const outcome = outcomeOf(run);
    if (outcome === 'ok' || outcome === 'warned') {
      tally.committed.push(attemptMarker);
      if (outcome === 'warned') {
        tally.warned += 1;
        if (tally.errorSamples.length < 5) tally.errorSamples.push(problemsOf(run).join(' | '));
      }
      return;
    }
    if (outcome === 'starved') {
      tally.starved += 1;
    } else {
      tally.errors += 1;
      // A failure after session_start() may still have written; one before it cannot have.
      if (run.result?.started !== false) tally.uncertain.push(attemptMarker);
      if (tally.errorSamples.length < 5) tally.errorSamples.push(problemsOf(run).join(' | '));
    }
  }
  tally.gaveUp += 1;
}

/** The markers of a session's "markers" string, in order. */
export function markersOf(session: Record<string, unknown> | undefined): string[] {
  const text = typeof session?.markers === 'string' ? session.markers : '';
  return text.split(',').filter((m) => m !== '');
}

// ---------------------------------------------------------------- a TCP load balancer

/**
 * A minimal TCP load balancer like HAProxy in `mode tcp` with `balance roundrobin`: each client
 * connection goes to the next backend that accepts a connection; a backend that refuses is
 * skipped. Bytes are piped both ways; when either side closes, so does the other.
 */
export class TcpBalancer {
  private server: net.Server;
  private next = 0;
  private sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly backends: number[]) {
    this.server = net.createServer((client) => this.accept(client));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private accept(client: net.Socket): void {
    this.track(client);
    client.pause();
    client.on('error', () => undefined);
    const first = this.next++ % this.backends.length;
    const attempt = (tried: number): void => {
      if (tried === this.backends.length || client.destroyed) {
        client.destroy();
        return;
      }
      const upstream = net.connect(this.backends[(first + tried) % this.backends.length]!, '127.0.0.1');
      this.track(upstream);
      upstream.once('error', () => {
        upstream.destroy();
        attempt(tried + 1);
      });
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
