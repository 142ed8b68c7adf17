import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

/** Where everything of one embedded server lives; all of it is inside dataDir except, rarely, the socket. */
export interface DataDirLayout {
  root: string;
  /** The MariaDB datadir proper; its existence means initialisation finished. */
  data: string;
  socket: string;
  pidFile: string;
  errorLog: string;
  passwordFile: string;
  /** option file for the mariadb command-line client */
  clientConfig: string;
  initFile: string;
}

// sun_path is 108 bytes on Linux; deep project checkouts exceed it easily.
const MAX_SOCKET_PATH = 100;

export function layoutFor(dataDir: string): DataDirLayout {
  const root = path.resolve(dataDir);
  let socket = path.join(root, 'mariadbd.sock');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    const digest = createHash('sha256').update(root).digest('hex').slice(0, 16);
    socket = path.join(os.tmpdir(), `memgate-mariadb-${digest}.sock`);
  }
  return {
    root,
    data: path.join(root, 'data'),
    socket,
    pidFile: path.join(root, 'mariadbd.pid'),
    errorLog: path.join(root, 'mariadbd.err'),
    passwordFile: path.join(root, 'password'),
    clientConfig: path.join(root, 'client.cnf'),
    initFile: path.join(root, 'init.sql'),
  };
}
