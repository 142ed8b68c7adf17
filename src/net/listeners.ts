import { chmod, lstat, rm, unlink } from 'node:fs/promises';
import net, { type Server } from 'node:net';
import { ConfigError } from '../config/load-config.js';

const SOCKET_NAMES = '[listen.socket, --socket, MEMGATE_SOCKET]';
/** A connect to a socket file that nothing answers on, or that hangs, is given up after this. */
const PROBE_TIMEOUT_MS = 2000;

/** Starts `server` listening on host:port; resolves with the port bound (port 0 picks one). */
export async function listenTcp(server: Server, host: string, port: number): Promise<number> {
  await listening(server, { host, port });
  const bound = server.address();
  return typeof bound === 'object' && bound ? bound.port : port;
}

/**
 * Starts `server` listening on the unix socket `path` with permission bits `mode`. When
 * `ownsFile`, a stale file is replaced first (see removeStaleSocket). A worker process of
 * several does not own it: the others' socket is live, and the primary checks it once.
 */
export async function listenUnix(server: Server, path: string, mode: number, ownsFile: boolean): Promise<void> {
  if (ownsFile) await removeStaleSocket(path);
  try {
    await listening(server, { path });
  } catch (error) {
    throw new ConfigError(`cannot listen on the unix socket ${path}: ${(error as Error).message} ${SOCKET_NAMES}`);
  }
  // Set after bind, not with a umask: in the moment between, the mode is what the umask gives
  // (without write permission for others under the usual 022, so nobody else can connect).
  await chmod(path, mode);
}

/** Stops accepting on a listener; a unix socket's file goes with it. */
export async function closeListener(server: Server, path: string | null): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (path) await rm(path, { force: true });
}

/**
 * A socket file that nothing answers on was left by a gateway that was killed: it is removed.
 * A live server on it, or a file that is not a socket, throws instead: replacing either would
 * take another server's clients or someone's file.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ConfigError(`cannot use ${path} as unix socket: ${(error as Error).message} ${SOCKET_NAMES}`);
  }
  if (!isSocket) throw new ConfigError(`${path} exists and is not a socket; not replacing it ${SOCKET_NAMES}`);
  const answer = await probe(path);
  if (answer === 'live') {
    throw new ConfigError(`a server is already listening on the unix socket ${path} (another memgate or memcached?); stop it or choose another path ${SOCKET_NAMES}`);
  }
  if (answer !== 'ECONNREFUSED') throw new ConfigError(`cannot tell whether ${path} is in use (${answer}); not replacing it ${SOCKET_NAMES}`);
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw new ConfigError(`cannot remove the stale socket ${path}: ${error.message} ${SOCKET_NAMES}`);
  });
}

/** 'live' when something accepts a connection on the socket, else the error code of the attempt. */
function probe(path: string): Promise<string> {
  return new Promise((resolve) => {
    const client = net.connect({ path });
    const timer = setTimeout(() => {
      client.destroy();
      resolve('no answer within 2 s');
    }, PROBE_TIMEOUT_MS);
    client.once('connect', () => {
      clearTimeout(timer);
      client.destroy();
      resolve('live');
    });
    client.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code ?? error.message);
    });
  });
}

function listening(server: Server, where: net.ListenOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
