import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'winston';
import type { DataDirLayout } from './layout.js';
import { isAlive, readPidFile, readProcessInfo, terminate } from './process-utils.js';

export type PreviousServer = { kind: 'none' } | { kind: 'in-use'; pid: number; port: number; ownerPid: number };

function ownerFile(layout: DataDirLayout): string {
  return path.join(layout.root, 'owner.pid');
}

export async function recordOwner(layout: DataDirLayout): Promise<void> {
  await writeFile(ownerFile(layout), `${process.pid}\n`);
}

/**
 * Decides what to do about a server already running on this dataDir (two
 * servers on one datadir would fight over InnoDB's file locks for ~100 s and
 * then fail). A server whose parent is still the process that recorded itself
 * as owner is in use and is shared; anything else is an orphan from a crashed
 * or killed memgate and is shut down cleanly.
 */
export async function settlePreviousServer(layout: DataDirLayout, logger: Logger, graceMs: number): Promise<PreviousServer> {
  const pid = await readPidFile(layout.pidFile);
  const info = pid === undefined ? undefined : await readProcessInfo(pid);
  if (pid === undefined || info === undefined || !info.argv.includes(`--datadir=${layout.data}`)) {
    if (pid !== undefined) logger.debug(`ignoring stale MariaDB pid file ${layout.pidFile} (pid ${pid} is not our server)`);
    // The server recreates both, but a leftover socket would confuse clients until then.
    await rm(layout.pidFile, { force: true });
    await rm(layout.socket, { force: true });
    return { kind: 'none' };
  }
  const ownerPid = await readPidFile(ownerFile(layout));
  const portArg = info.argv.find((arg) => arg.startsWith('--port='));
  const port = portArg ? Number(portArg.slice('--port='.length)) : NaN;
  if (ownerPid !== undefined && info.parentPid === ownerPid && isAlive(ownerPid) && Number.isInteger(port)) {
    return { kind: 'in-use', pid, port, ownerPid };
  }
  logger.warn(`stopping orphaned embedded MariaDB (pid ${pid}) left behind on ${layout.root}`);
  await terminate(pid, graceMs);
  if (isAlive(pid)) throw new Error(`could not stop orphaned MariaDB pid ${pid} on ${layout.root}`);
  await rm(layout.pidFile, { force: true });
  return { kind: 'none' };
}
