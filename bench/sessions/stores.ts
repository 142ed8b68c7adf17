// How PHP reaches each session store: its `php -d` settings and the worker's handler. Every
// store gets the same session settings around it; the handler's own settings stay at the
// extension's defaults unless the comparison needs one (phpredis locks only when asked).
import type { StoreName } from './options.js';

export type PhpSettings = Record<string, string>;

/**
 * Where the servers of a run listen (127.0.0.1:port, or a unix socket's path), and how
 * PdoSessionHandler reaches MariaDB.
 */
export interface StoreEndpoints {
  memcached: string | null;
  memgate: string | null;
  redisAlways: string | null;
  redisEverysec: string | null;
  pdo: PdoEndpoint | null;
}

const isSocketPath = (address: string) => address.startsWith('/');

export interface PdoEndpoint {
  dsn: string;
  user: string;
  password: string;
  table: string;
}

/** How a worker runs for a store: `php -d` settings, and the handler the script registers. */
export interface StoreAccess {
  settings: PhpSettings;
  handler: 'native' | 'pdo';
  pdo?: Omit<PdoEndpoint, 'password'>;
}

/**
 * The CLI as a web request: no cookies or cache headers to send (nothing may be output before
 * session_start()), no garbage collection run by chance inside a timed view.
 */
export const COMMON_SETTINGS: PhpSettings = {
  'session.use_cookies': '0',
  'session.use_only_cookies': '0',
  'session.cache_limiter': '',
  'session.gc_probability': '0',
  'session.use_strict_mode': '0',
};

function required<T>(value: T | null, store: StoreName): T {
  if (value === null) throw new Error(`${store}: its server was not started`);
  return value;
}

/** php-memcached with the extension's defaults: binary protocol, locking on. A socket is its path. */
function memcachedHandler(address: string): PhpSettings {
  return { 'session.save_handler': 'memcached', 'session.save_path': address };
}

/** phpredis with locking asked for (it is off by default), lock waits at their defaults. */
function redisHandler(address: string): PhpSettings {
  const savePath = isSocketPath(address) ? `unix://${address}` : `tcp://${address}`;
  return { 'session.save_handler': 'redis', 'session.save_path': savePath, 'redis.session.locking_enabled': '1' };
}

export function storeAccess(store: StoreName, endpoints: StoreEndpoints): StoreAccess {
  const native = (settings: PhpSettings): StoreAccess => ({ settings: { ...COMMON_SETTINGS, ...settings }, handler: 'native' });
  switch (store) {
    case 'memcached': return native(memcachedHandler(required(endpoints.memcached, store)));
    case 'memgate': return native(memcachedHandler(required(endpoints.memgate, store)));
    case 'redis-always': return native(redisHandler(required(endpoints.redisAlways, store)));
    case 'redis-everysec': return native(redisHandler(required(endpoints.redisEverysec, store)));
    case 'pdo': {
      const { password: _password, ...pdo } = required(endpoints.pdo, store);
      return { settings: { ...COMMON_SETTINGS }, handler: 'pdo', pdo };
    }
  }
}

/** `-d name=value` arguments for php. */
export function phpIniArgs(settings: PhpSettings): string[] {
  return Object.entries(settings).flatMap(([name, value]) => ['-d', `${name}=${value}`]);
}

/** Whether a store keeps its sessions in the benchmark's MariaDB (its counters are its own). */
export function usesMariadb(store: StoreName): boolean {
  return store === 'memgate' || store === 'pdo';
}
