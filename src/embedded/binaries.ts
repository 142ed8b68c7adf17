import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'winston';
import { isRoot } from './process-utils.js';
import { runCommand } from './run-command.js';

const execFileAsync = promisify(execFile);

export interface MariadbBinaries {
  server: string;
  installDb: string;
}

// Debian puts mariadbd in /usr/sbin, which is not in a normal user's PATH.
const EXTRA_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];
const SERVER_NAMES = ['mariadbd', 'mysqld'];
const INSTALL_DB_NAMES = ['mariadb-install-db', 'mysql_install_db'];

function searchDirs(): string[] {
  const fromPath = (process.env.PATH ?? '').split(path.delimiter).filter((dir) => dir !== '');
  return [...new Set([...fromPath, ...EXTRA_DIRS])];
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export function findExecutable(names: readonly string[]): string | undefined {
  const dirs = searchDirs();
  // Name order wins over directory order so that mariadbd beats a mysqld symlink.
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

export function findMariadbBinaries(): MariadbBinaries | undefined {
  const server = findExecutable(SERVER_NAMES);
  const installDb = findExecutable(INSTALL_DB_NAMES);
  return server && installDb ? { server, installDb } : undefined;
}

export function missingMariadbMessage(isRoot: boolean): string {
  const install = isRoot ? 'apt-get install -y mariadb-server' : 'sudo apt-get install -y mariadb-server';
  return (
    'MariaDB server binaries (mariadbd and mariadb-install-db) were not found in PATH, /usr/sbin or /usr/bin. ' +
    `Install them with \`${install}\`, or use an existing MySQL/MariaDB database by passing ` +
    '--db-url mysql://user:password@host:3306/database (or setting MEMGATE_DB_URL).'
  );
}

async function isMariadb(server: string): Promise<boolean> {
  const { stdout } = await execFileAsync(server, ['--version']);
  return /mariadb/i.test(stdout);
}

async function installWithApt(logger: Logger): Promise<void> {
  const aptGet = findExecutable(['apt-get']);
  if (!aptGet) throw new Error(`${missingMariadbMessage(true)} (apt-get is not available on this machine)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  logger.info('MariaDB is not installed; running apt-get update && apt-get install -y mariadb-server (this takes a minute)');
  await runCommand(aptGet, ['update'], { logger, env });
  await runCommand(aptGet, ['install', '-y', 'mariadb-server'], { logger, env });
  logger.info('mariadb-server installed');
}

/**
 * Finds the MariaDB binaries, installing the Debian package when we are root
 * and allowed to. Only root installs, because asking for a sudo password from
 * inside a server process would hang unattended runs.
 */
export async function ensureMariadbBinaries(opts: { logger: Logger; installIfMissing: boolean }): Promise<MariadbBinaries> {
  const existingServer = findExecutable(SERVER_NAMES);
  // Installing mariadb-server over Oracle MySQL would remove it, so never do that for the user.
  if (existingServer && !(await isMariadb(existingServer))) {
    throw new Error(
      `${existingServer} is Oracle MySQL, which memgate cannot provision for itself. ` +
        'Point memgate at that server with --db-url mysql://user:password@127.0.0.1:3306/database (or MEMGATE_DB_URL).',
    );
  }
  const found = findMariadbBinaries();
  if (found) return found;
  if (!isRoot() || !opts.installIfMissing) throw new Error(missingMariadbMessage(isRoot()));
  await installWithApt(opts.logger);
  const installed = findMariadbBinaries();
  if (!installed) throw new Error(`apt-get installed mariadb-server but the binaries are still missing. ${missingMariadbMessage(true)}`);
  return installed;
}
