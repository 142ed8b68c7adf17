// Running php/worker.php: the PHP processes of a cell, the read-back of the shared session,
// and the creation of PdoSessionHandler's table. Every PHP process started is tracked so that
// an interrupted run can kill what is still running.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerOutput, WorkerRun } from './stats.js';
import { phpIniArgs, type PdoEndpoint, type StoreAccess } from './stores.js';

const WORKER = fileURLToPath(new URL('../../../bench/sessions/php/worker.php', import.meta.url));
const PHP = process.env['PHP_BIN'] ?? 'php';
/** How long a process may run past its cell's end: a view waiting out php-memcached's lock retries. */
const GRACE_MS = 30_000;

export interface PhpResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** SIGKILLs every PHP process still running (a run stopped by a signal). */
export function killAllPhp(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Runs worker.php once with the store's settings and `config`; SIGKILLed after timeoutMs. */
export function runWorker(access: StoreAccess, config: Record<string, unknown>, timeoutMs: number, password = ''): Promise<PhpResult> {
  const args = [...phpIniArgs(access.settings), WORKER, JSON.stringify({ handler: access.handler, pdo: access.pdo, ...config })];
  const child = spawn(PHP, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BENCH_PDO_PASSWORD: password } });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ stdout, stderr, code, signal });
    };
    child.once('close', finish);
    child.once('error', (error) => {
      stderr += `could not run ${PHP}: ${error.message}`;
      finish(null, null);
    });
  });
}

/** The last line of stdout parsed as JSON, or null. */
export function lastJsonLine(stdout: string): unknown {
  const line = stdout.trimEnd().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return null;
  }
}

function describeProblem(result: PhpResult): string {
  const said = (result.stderr + result.stdout).trim().split('\n').slice(-3).join(' | ').slice(0, 500);
  return `php ${result.signal ? `killed by ${result.signal}` : `exited with code ${result.code}`}${said ? `: ${said}` : ''}`;
}

function isWorkerOutput(value: unknown): value is WorkerOutput {
  const v = value as Partial<WorkerOutput> | null;
  return typeof v === 'object' && v !== null && typeof v.views === 'number' && Array.isArray(v.latenciesUs);
}

/** One worker per id list, all with the same window; resolves when every one has ended. */
export async function runViews(access: StoreAccess, idLists: readonly string[][], window: { startAtMs: number; endAtMs: number }, password = ''): Promise<WorkerRun[]> {
  const timeoutMs = window.endAtMs - Date.now() + GRACE_MS;
  const results = await Promise.all(idLists.map((ids) => runWorker(access, { mode: 'views', ids, ...window }, timeoutMs, password)));
  return results.map((result) => {
    const output = lastJsonLine(result.stdout);
    return isWorkerOutput(output) ? { output, problem: null } : { output: null, problem: describeProblem(result) };
  });
}

/** A session's n as the store returns it, or an error saying why it could not be read. */
export async function readCounter(access: StoreAccess, id: string, password = ''): Promise<number> {
  const result = await runWorker(access, { mode: 'read', ids: [id] }, 30_000, password);
  const output = lastJsonLine(result.stdout) as { started?: boolean; n?: unknown; warnings?: string[] } | null;
  if (!output) throw new Error(describeProblem(result));
  if (!output.started || typeof output.n !== 'number') throw new Error(`session_start() failed: ${(output.warnings ?? []).join(' | ')}`);
  return output.n;
}

/** PdoSessionHandler::createTable() on its MariaDB. */
export async function setupPdoTable(pdo: PdoEndpoint): Promise<void> {
  const { password, ...endpoint } = pdo;
  const result = await runWorker({ settings: {}, handler: 'pdo', pdo: endpoint }, { mode: 'setup' }, 60_000, password);
  const output = lastJsonLine(result.stdout) as { created?: boolean } | null;
  if (!output?.created) throw new Error(`PdoSessionHandler::createTable() failed: ${describeProblem(result)}`);
}
