import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM means it exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

/**
 * The fields of a /proc/<pid>/stat (or task stat) line after the command name, which is in
 * parentheses and may itself hold ')' or spaces: [state, ppid, pgrp, …].
 */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

// A dead orphan lingers as a zombie until init reaps it, and some container inits are slow to.
function isZombie(pid: number): boolean {
  try {
    return statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[0] === 'Z';
  } catch {
    return false;
  }
}

/** Polls because the process may not be our child, so there is no 'exit' event to wait for. */
export async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

export async function terminate(pid: number, graceMs: number): Promise<void> {
  signal(pid, 'SIGTERM');
  if (await waitUntilGone(pid, graceMs)) return;
  signal(pid, 'SIGKILL');
  await waitUntilGone(pid, 10_000);
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export interface ProcessInfo {
  argv: string[];
  parentPid: number;
}

/** Linux-only; undefined when the process is gone or /proc is unavailable. */
export async function readProcessInfo(pid: number): Promise<ProcessInfo | undefined> {
  try {
    const [cmdline, status] = await Promise.all([
      readFile(`/proc/${pid}/cmdline`, 'utf8'),
      readFile(`/proc/${pid}/status`, 'utf8'),
    ]);
    const ppid = /^PPid:\s*(\d+)/m.exec(status);
    if (!ppid) return undefined;
    return { argv: cmdline.split('\0').filter((arg) => arg !== ''), parentPid: Number(ppid[1]) };
  } catch {
    return undefined;
  }
}

export async function readPidFile(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
