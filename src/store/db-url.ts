export interface DatabaseEndpoint {
  host: string;
  port: number;
  /**
   * A unix-domain socket of a server on this host, used instead of host and port: it skips the
   * TCP stack on both sides of every statement. `?socketPath=/path`, mysql2's own name for it,
   * so the URL means the same to mysql2.
   */
  socketPath?: string;
  user: string;
  password: string;
  database: string;
  /** TLS parameters given in this node's URL (?ssl-mode=verify-ca&ssl-ca=/path); they win over db.ssl* */
  tls?: DatabaseTlsParams;
  /** mysql2's ssl option for this node, set from tls and db.ssl* by databaseTls() (db-tls.ts) */
  ssl?: DatabaseSsl;
}

/** The MySQL client's --ssl-mode values, with its meanings (docs/database-tls.md). */
export const SSL_MODES = ['disabled', 'preferred', 'required', 'verify-ca', 'verify-identity'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** File paths, as the URL or the settings give them. */
export interface DatabaseTlsParams {
  mode?: SslMode;
  ca?: string;
  cert?: string;
  key?: string;
}

/** What mysql2 gets as its ssl option, and whether a server without TLS is used in clear. */
export interface DatabaseSsl {
  mode: SslMode;
  options: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean; verifyIdentity: boolean };
  /** the settings in force, for error messages */
  describe: string;
}

/** The URL query parameter naming a unix socket (DatabaseEndpoint.socketPath). */
const SOCKET_PARAM = 'socketPath';

/** URL query parameters, in the MySQL client's option spelling (ssl_mode is accepted as ssl-mode). */
const TLS_PARAMS = { 'ssl-mode': 'mode', 'ssl-ca': 'ca', 'ssl-cert': 'cert', 'ssl-key': 'key' } as const;

/**
 * Parses mysql://user:password@host:port/database[?socketPath=/path]. Throws a message that names
 * the setting, never the password.
 */
export function parseDatabaseUrl(url: string, setting = 'db.url'): DatabaseEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${setting}: not a URL; expected mysql://user:password@host:port/database`);
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    throw new Error(`${setting}: scheme must be mysql:// (got ${parsed.protocol}//)`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) {
    throw new Error(`${setting}: name the database in the path, e.g. mysql://user:password@host:3306/memgate`);
  }
  const port = parsed.port ? Number(parsed.port) : 3306;
  const tls = parseTlsParams(parsed.searchParams, setting);
  const endpoint: DatabaseEndpoint = {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port,
    user: decodeURIComponent(parsed.username) || 'root',
    password: decodeURIComponent(parsed.password),
    database,
    ...(tls ? { tls } : {}),
  };
  const socketPath = parsed.searchParams.get(SOCKET_PARAM);
  if (socketPath !== null) {
    if (!socketPath.startsWith('/')) {
      throw new Error(`${setting}: socketPath=${socketPath} must be an absolute path to the server's unix socket`);
    }
    endpoint.socketPath = socketPath;
  }
  return endpoint;
}

/** What mysql2 needs to reach a node and log in: its socket, or host and port. */
export function connectionTarget({ host, port, socketPath, user, password, database }: DatabaseEndpoint) {
  return { ...(socketPath === undefined ? { host, port } : { socketPath }), user, password, database };
}

/** How logs name a node: its socket, or host:port. */
export function endpointAddress({ host, port, socketPath }: DatabaseEndpoint): string {
  if (socketPath !== undefined) return socketPath;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function parseTlsParams(query: URLSearchParams, setting: string): DatabaseTlsParams | undefined {
  const tls: DatabaseTlsParams = {};
  for (const [name, value] of query) {
    if (name === SOCKET_PARAM) continue;
    const field = TLS_PARAMS[name.replaceAll('_', '-') as keyof typeof TLS_PARAMS];
    if (!field) {
      throw new Error(`${setting}: unknown parameter ${name}; the URL takes ${[SOCKET_PARAM, ...Object.keys(TLS_PARAMS)].join(', ')}`);
    }
    if (field === 'mode') {
      if (!(SSL_MODES as readonly string[]).includes(value)) throw new Error(`${setting}: ssl-mode ${value} is not one of: ${SSL_MODES.join(', ')}`);
      tls.mode = value as SslMode;
    } else {
      if (value === '') throw new Error(`${setting}: ${name} needs a file path`);
      tls[field] = value;
    }
  }
  return Object.keys(tls).length > 0 ? tls : undefined;
}

/**
 * Parses db.url: one URL, or several separated by commas, the SQL nodes of one cluster in order
 * of preference. A bad entry is named by its position.
 */
export function parseDatabaseUrls(value: string, setting = 'db.url'): DatabaseEndpoint[] {
  const urls = splitDatabaseUrls(value);
  if (urls.length === 0) throw new Error(`${setting}: no URL given; expected mysql://user:password@host:port/database`);
  return urls.map((url, i) => parseDatabaseUrl(url, urls.length === 1 ? setting : `${setting} (node ${i + 1} of ${urls.length})`));
}

export function splitDatabaseUrls(value: string): string[] {
  return value.split(',').map((url) => url.trim()).filter((url) => url !== '');
}

/** The URL (or comma-separated URLs) with the passwords masked, for logs. */
export function redactDatabaseUrl(value: string): string {
  const urls = splitDatabaseUrls(value);
  return urls.length > 1 ? urls.map(redactOne).join(',') : redactOne(value);
}

function redactOne(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable url>';
  }
}
