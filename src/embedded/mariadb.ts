import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type { Logger } from 'winston';
import { ensureMariadbBinaries } from './binaries.js';
import { writeClientConfig } from './client-config.js';
import { EMBEDDED_USER, readOrCreatePassword } from './credentials.js';
import { assertValidDatabaseName, initialiseDataDir, writeInitFile } from './initialise.js';
import { layoutFor, type DataDirLayout } from './layout.js';
import { recordOwner, settlePreviousServer } from './previous-server.js';
import { isRoot, signal } from './process-utils.js';
import { waitUntilReady } from './wait-ready.js';
import { startWatchdog } from './watchdog.js';

export interface EmbeddedMariadbOptions {
  /** Owned by memgate: holds the MariaDB datadir, socket, pid file, error log and password file. */
  dataDir: string;
  port: number;
  database: string;
  logger: Logger;
  /** Run apt-get when the binaries are missing and we are root. Default true. */
  installIfMissing?: boolean;
  /** Default 60 s; crash recovery of a large datadir can need more. */
  startTimeoutMs?: number;
  /** How long a clean shutdown may take before SIGKILL. Default 30 s. */
  stopTimeoutMs?: number;
  /** Appended after our defaults, so they win (e.g. '--innodb-flush-log-at-trx-commit=2'). */
  extraServerArgs?: readonly string[];
}

export interface EmbeddedMariadb {
  /** mysql://memgate:<password>@127.0.0.1:<port>/<database> */
  url: string;
  /** <dataDir>/client.cnf (mode 0600): `mariadb --defaults-file=<it>` connects over TCP */
  clientConfigFile: string;
  /** Idempotent; resolves once the server process has exited. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/**
 * The gateway talks to its embedded server through the unix socket: on a page view's four
 * statements, the TCP loopback path costs both processes measurably more CPU. The port stays in
 * the URL for people who copy it into SQL tools.
 */
function buildUrl(password: string, port: number, database: string, socket: string): string {
  return `mysql://${EMBEDDED_USER}:${encodeURIComponent(password)}@${HOST}:${port}/${database}?socketPath=${encodeURIComponent(socket)}`;
}

function serverArgs(layout: DataDirLayout, port: number, extra: readonly string[]): string[] {
  return [
    // Must come first; keeps /etc/mysql and ~/.my.cnf from changing our server.
    '--no-defaults',
    ...(isRoot() ? ['--user=root'] : []),
    `--datadir=${layout.data}`,
    `--socket=${layout.socket}`,
    `--pid-file=${layout.pidFile}`,
    `--log-error=${layout.errorLog}`,
    `--init-file=${layout.initFile}`,
    `--bind-address=${HOST}`,
    `--port=${port}`,
    '--skip-name-resolve',
    '--innodb-buffer-pool-size=128M',
    '--max-allowed-packet=64M',
    '--innodb-flush-log-at-trx-commit=1',
    '--transaction-isolation=READ-COMMITTED',
    '--character-set-server=utf8mb4',
    ...extra,
  ];
}

function describeExit(code: number | null, sig: NodeJS.Signals | null): string {
  return sig ? `was killed by ${sig}` : `exited with code ${code}`;
}

function waitForChildExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function spawnServer(server: string, args: string[], errorLog: string): ChildProcess {
  // Early failures (bad option, port in use) go to stderr before --log-error takes over.
  const logFd = openSync(errorLog, 'a', 0o600);
  try {
    return spawn(server, args, {
      stdio: ['ignore', logFd, logFd],
      // Own process group: a terminal Ctrl-C reaches only memgate, which then shuts the server down in order.
      detached: true,
    });
  } finally {
    closeSync(logFd);
  }
}

/**
 * Starts (initialising on first use) a private MariaDB on 127.0.0.1 whose
 * whole state lives in opts.dataDir.
 */
export async function startEmbeddedMariadb(opts: EmbeddedMariadbOptions): Promise<EmbeddedMariadb> {
  const { logger, database, port } = opts;
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 30_000;
  assertValidDatabaseName(database);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid port for embedded MariaDB: ${port}`);

  const binaries = await ensureMariadbBinaries({ logger, installIfMissing: opts.installIfMissing !== false });
  const layout = layoutFor(opts.dataDir);
  await mkdir(layout.root, { recursive: true, mode: 0o700 });
  const password = await readOrCreatePassword(layout.passwordFile);

  const previous = await settlePreviousServer(layout, logger, stopTimeoutMs);
  if (previous.kind === 'in-use') {
    const url = buildUrl(password, previous.port, database, layout.socket);
    const clientConfigFile = await writeClientConfig(layout, { host: HOST, port: previous.port, database, password });
    // The normal case for `memgate sweep` from cron beside `memgate serve`: not worth a warning.
    logger.info(
      `embedded MariaDB on ${layout.root} is already run by memgate pid ${previous.ownerPid} on port ${previous.port}; ` +
        'sharing it (it stops when that process stops)',
    );
    await waitUntilReady({ url, timeoutMs: startTimeoutMs, errorLog: layout.errorLog, exited: () => undefined });
    return { url, clientConfigFile, stop: async () => {} };
  }

  const started = Date.now();
  await initialiseDataDir(binaries.installDb, layout, logger);
  await writeInitFile(layout, database, password);
  await recordOwner(layout);
  const clientConfigFile = await writeClientConfig(layout, { host: HOST, port, database, password });
  logger.info(`starting embedded MariaDB on ${HOST}:${port} (data in ${layout.root})`);
  const child = spawnServer(binaries.server, serverArgs(layout, port, opts.extraServerArgs ?? []), layout.errorLog);

  let exitReason: string | undefined;
  let ready = false;
  let stopping: Promise<void> | undefined;
  child.on('error', (err) => {
    exitReason ??= `could not be run (${err.message})`;
  });
  child.on('exit', (code, sig) => {
    exitReason ??= describeExit(code, sig);
    // Before ready, the failed start reports it; after stop(), it is expected.
    if (ready && stopping === undefined) logger.error(`embedded MariaDB ${exitReason}; see ${layout.errorLog}`);
  });
  // Our stop() decides the server's lifetime, not node's event loop.
  child.unref();

  const pid = child.pid;
  const watchdog = pid === undefined ? undefined : startWatchdog(pid);
  const onProcessExit = (): void => {
    // Only synchronous work is possible here; SIGTERM lets the server finish a clean shutdown on its own.
    if (pid !== undefined) signal(pid, 'SIGTERM');
  };
  process.on('exit', onProcessExit);

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.off('exit', onProcessExit);
      watchdog?.dispose();
      if (exitReason !== undefined) return;
      // Keep node alive until the server is really gone.
      child.ref();
      child.kill('SIGTERM');
      if (!(await waitForChildExit(child, stopTimeoutMs))) {
        logger.warn(`embedded MariaDB did not stop within ${stopTimeoutMs} ms; killing it`);
        child.kill('SIGKILL');
        await waitForChildExit(child, 10_000);
      }
      logger.info('embedded MariaDB stopped');
    })());

  const url = buildUrl(password, port, database, layout.socket);
  try {
    await waitUntilReady({ url, timeoutMs: startTimeoutMs, errorLog: layout.errorLog, exited: () => exitReason });
  } catch (err) {
    await stop();
    throw err;
  } finally {
    // It holds the password and has served its purpose once the server is up (or down).
    await rm(layout.initFile, { force: true });
  }
  ready = true;
  logger.info(`embedded MariaDB ready on ${HOST}:${port} after ${Date.now() - started} ms`);
  return { url, clientConfigFile, stop };
}
