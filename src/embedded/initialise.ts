import { existsSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import type { Logger } from 'winston';
import type { DataDirLayout } from './layout.js';
import { runCommand } from './run-command.js';
import { EMBEDDED_USER } from './credentials.js';
import { isRoot } from './process-utils.js';

/**
 * Creates the system tables once. install-db writes into a scratch directory
 * that is renamed into place only on success, so an interrupted first start
 * is retried from scratch instead of leaving a half-built datadir that would
 * look initialised.
 */
export async function initialiseDataDir(installDb: string, layout: DataDirLayout, logger: Logger): Promise<boolean> {
  if (existsSync(layout.data)) return false;
  const scratch = `${layout.data}.init-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  logger.info(`initialising embedded MariaDB data directory ${layout.data}`);
  await runCommand(
    installDb,
    [
      '--no-defaults',
      `--datadir=${scratch}`,
      '--skip-test-db',
      // root can then only log in through the private socket as the OS user that owns it, never over TCP.
      '--auth-root-authentication-method=socket',
      '--skip-name-resolve',
      // mariadbd refuses to run as root unless told to; the datadir belongs to whoever runs memgate.
      ...(isRoot() ? ['--user=root'] : []),
    ],
    { logger },
  );
  try {
    await rename(scratch, layout.data);
  } catch (err) {
    // Another process initialised it concurrently; theirs is as good as ours.
    await rm(scratch, { recursive: true, force: true });
    if (!existsSync(layout.data)) throw err;
  }
  return true;
}

const IDENTIFIER = /^[A-Za-z0-9_$]{1,64}$/;

export function assertValidDatabaseName(database: string): void {
  if (!IDENTIFIER.test(database)) {
    throw new Error(`invalid database name ${JSON.stringify(database)}: use 1-64 letters, digits, '_' or '$'`);
  }
}

/**
 * The init file runs on every start, before the server accepts connections,
 * so the database, the user and the password from the password file are
 * always in place without ever logging in as root. One statement per line
 * because that is all older servers parse in an init file.
 */
export async function writeInitFile(layout: DataDirLayout, database: string, password: string): Promise<void> {
  // 127.0.0.1 for TCP (SQL tools, the client option file); localhost is how the server names
  // a login through its socket, which the gateway uses.
  const accounts = ['127.0.0.1', 'localhost'].map((host) => `'${EMBEDDED_USER}'@'${host}'`);
  const sql = [
    `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4;`,
    ...accounts.flatMap((account) => [
      `CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY '${password}';`,
      `ALTER USER ${account} IDENTIFIED BY '${password}';`,
      `GRANT ALL PRIVILEGES ON \`${database}\`.* TO ${account};`,
    ]),
    '',
  ].join('\n');
  // Recreated rather than overwritten so the mode always applies.
  await rm(layout.initFile, { force: true });
  await writeFile(layout.initFile, sql, { mode: 0o600 });
}
