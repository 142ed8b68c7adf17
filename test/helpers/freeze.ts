import { readdir, readFile } from 'node:fs/promises';
import { statFields } from '../../src/embedded/process-utils.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stopped (T), stopped by a tracer (t), or exited (Z, X): none of them runs anything. */
const NOT_RUNNING = new Set(['T', 't', 'Z', 'X']);

async function everyThreadStopped(pid: number): Promise<boolean> {
  let tasks: string[];
  try {
    tasks = await readdir(`/proc/${pid}/task`);
  } catch {
    throw new Error(`process ${pid} exited instead of stopping`);
  }
  for (const task of tasks) {
    try {
      if (!NOT_RUNNING.has(statFields(await readFile(`/proc/${pid}/task/${task}/stat`, 'utf8'))[0]!)) return false;
    } catch {
      // a thread that exited in between is no longer answering anything
    }
  }
  return true;
}

/**
 * SIGSTOPs a server and resolves once every one of its threads has stopped. kill() only queues
 * the signal and wakes one thread; until that thread runs and stops the others, a connection
 * thread woken by a query can still answer it, which on a busy machine it sometimes does.
 */
export async function freezeProcess(pid: number, timeoutMs = 5000): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  const deadline = Date.now() + timeoutMs;
  while (!(await everyThreadStopped(pid))) {
    if (Date.now() > deadline) throw new Error(`process ${pid} did not stop within ${timeoutMs} ms of SIGSTOP`);
    await sleep(5);
  }
}
