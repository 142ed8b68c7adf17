import { chmod, writeFile } from 'node:fs/promises';
import { EMBEDDED_USER } from './credentials.js';
import type { DataDirLayout } from './layout.js';

/**
 * An option file for MariaDB's command-line tools, so that `mariadb --defaults-file=<it>` opens
 * the embedded database. Over TCP, through memgate's account for 127.0.0.1, so it keeps working
 * when the socket is moved to the temporary directory (layout.ts). The database goes in [mysql], which only the `mariadb` client reads:
 * mariadb-admin and mariadb-dump refuse or misread it under [client].
 */
export async function writeClientConfig(layout: DataDirLayout, opts: { host: string; port: number; database: string; password: string }): Promise<string> {
  const { host, port, database, password } = opts;
  const text = [
    `# Written by memgate at each start. mariadb --defaults-file=${layout.clientConfig}`,
    '[client]',
    'protocol=tcp',
    `host=${host}`,
    `port=${port}`,
    `user=${EMBEDDED_USER}`,
    `password=${password}`,
    '',
    '[mysql]',
    `database=${database}`,
    '',
  ].join('\n');
  await writeFile(layout.clientConfig, text, { mode: 0o600 });
  // The mode applies only when the file is created; it holds the password.
  await chmod(layout.clientConfig, 0o600);
  return layout.clientConfig;
}
