import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The real `memgate` command, run as an operator runs it: a separate node process. */
const CLI = fileURLToPath(new URL('../../src/cli/memgate.js', import.meta.url));

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The environment without any MEMGATE_* settings of the test run, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('MEMGATE_')) env[name] = value;
  return { ...env, ...extra };
}

export interface Spawned {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  exited: Promise<Exited>;
}

/** Starts `memgate <args>`; it is killed if still running after killAfterMs. */
export function startCli(args: string[], cwd: string, env: Record<string, string> = {}, killAfterMs = 30_000): Spawned {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // Every run is bounded: a process that outlives its test is killed.
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const exited = new Promise<Exited>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  return { child, exited, output: () => ({ stdout, stderr }) };
}
