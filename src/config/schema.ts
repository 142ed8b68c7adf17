import type convict from 'convict';
// Registers the formats named below with convict.
import './formats.js';

/**
 * Every setting, with its three names: the dotted key (a --config JSON file, error messages),
 * the flag (`arg`) and the environment variable (`env`). --help and docs/configuration.md are
 * generated from it (see settings.ts).
 */
export const configSchema = {
  listen: {
    host: { doc: 'Address to listen on.', format: 'text', default: '127.0.0.1', env: 'MEMGATE_HOST', arg: 'host' },
    port: { doc: 'TCP port to listen on.', format: 'tcp-port', default: 11211, env: 'MEMGATE_PORT', arg: 'port' },
    maxConnections: {
      doc: 'Client connections held at once; more are refused.',
      format: 'positive-int', default: 10240, env: 'MEMGATE_MAX_CONNECTIONS', arg: 'max-connections',
    },
    maxQueuedRequests: {
      doc: 'Pipelined requests queued on one connection before the gateway stops reading from it.',
      format: 'positive-int', default: 1024, env: 'MEMGATE_MAX_QUEUED_REQUESTS', arg: 'max-queued-requests',
    },
    shutdownGraceMs: {
      doc: 'On SIGTERM/SIGINT, how long in-flight commands may take before connections are cut.',
      format: 'whole-number', default: 5000, env: 'MEMGATE_SHUTDOWN_GRACE_MS', arg: 'shutdown-grace-ms',
    },
    tcp: {
      doc: 'Whether to listen on listen.host:listen.port. false, with listen.socket set: the unix socket only (what memcached -s does).',
      format: 'bool', default: true, env: 'MEMGATE_TCP', arg: 'tcp',
    },
    socket: {
      doc: 'Unix-domain socket to listen on as well as TCP (see listen.tcp), like memcached -s. A socket file left by a gateway that was killed is replaced; start-up stops when a live server answers on it, or when the path is not a socket. Removed on stop. Empty: none.',
      format: 'path', default: '', env: 'MEMGATE_SOCKET', arg: 'socket',
    },
    socketMode: {
      doc: 'Permissions of listen.socket, in octal like memcached -a: who may connect (connecting needs write permission).',
      format: 'file-mode', default: '700', env: 'MEMGATE_SOCKET_MODE', arg: 'socket-mode',
    },
    idleTimeout: {
      doc: 'Seconds a client connection may stay silent (nothing received from the client or sent to it, and no request of its waiting for the database) before it is closed and counted in the idle_kicks stat, like memcached -o idle_timeout. Also bounds a TLS handshake. 0: never.',
      format: 'whole-number', default: 0, env: 'MEMGATE_IDLE_TIMEOUT', arg: 'idle-timeout',
    },
  },
  tls: {
    cert: {
      doc: 'PEM certificate chain for TLS on the TCP port (memcached ssl_chain_cert). With tls.key set, clients connect with TLS; the unix socket stays plain. Empty: no TLS.',
      format: 'path', default: '', env: 'MEMGATE_TLS_CERT', arg: 'tls-cert',
    },
    key: {
      doc: 'PEM private key of tls.cert (memcached ssl_key).',
      format: 'path', default: '', env: 'MEMGATE_TLS_KEY', arg: 'tls-key',
    },
    ca: {
      doc: 'PEM CA certificates that client certificates must be signed by (memcached ssl_ca_cert). When set, a client without a valid certificate is refused. Empty: no client certificate asked for.',
      format: 'path', default: '', env: 'MEMGATE_TLS_CA', arg: 'tls-ca',
    },
    plainToo: {
      doc: 'With TLS on: whether plain (unencrypted) clients are served on the same port too; the gateway tells them apart by the first byte (0x16 starts a TLS handshake). false: plain bytes close the connection.',
      format: 'bool', default: false, env: 'MEMGATE_TLS_PLAIN_TOO', arg: 'tls-plain-too',
    },
  },
  workers: {
    count: {
      doc: 'Gateway processes serving the same port(s), each with its own database pool and coalescing; auto: one per core. Above 1, a primary process starts the embedded MariaDB (when db.url is empty), runs the workers, replaces one that dies, and on SIGTERM drains them all. stats then adds worker_id and workers. See docs/workers.md.',
      format: 'worker-count', default: 1, env: 'MEMGATE_WORKERS', arg: 'workers',
    },
  },
  db: {
    url: {
      doc: 'mysql://user:password@host:port/database (add ?socketPath=/path/to/mysqld.sock for a server on this host: cheaper per statement than TCP), or several such URLs separated by commas: the SQL nodes of one cluster (Galera, NDB) in order of preference. Every command goes to the first healthy node; when it fails the next takes over, and writes move back once it is healthy again. Empty: memgate provisions and runs its own MariaDB (see embedded).',
      format: 'db-url', default: '', env: 'MEMGATE_DB_URL', arg: 'db-url', sensitive: true,
    },
    reads: {
      doc: 'Where plain gets go when db.url lists several nodes: writer (the node that takes the writes) or spread (rotate over the healthy nodes; on Galera, db.wsrepSyncWait keeps them from missing recent writes).',
      format: ['writer', 'spread'], default: 'writer', env: 'MEMGATE_DB_READS', arg: 'db-reads',
    },
    wsrepSyncWait: {
      doc: 'wsrep_sync_wait for sessions on Galera nodes (detected by wsrep_on): 1 makes every read wait until the node has applied the writes the cluster committed before it, so a get never misses a set acknowledged through another node or gateway. 0 leaves the server setting.',
      format: 'whole-number', default: 1, env: 'MEMGATE_DB_WSREP_SYNC_WAIT', arg: 'db-wsrep-sync-wait',
    },
    table: { doc: 'Table that holds the items.', format: 'table-name', default: 'kv', env: 'MEMGATE_DB_TABLE', arg: 'table' },
    engine: {
      doc: 'Storage engine of the table memgate creates: innodb (also Galera) or ndb (MySQL Cluster).',
      format: ['innodb', 'ndb'], default: 'innodb', env: 'MEMGATE_DB_ENGINE', arg: 'engine',
    },
    poolSize: { doc: 'Database connections per gateway, to each node of db.url.', format: 'positive-int', default: 16, env: 'MEMGATE_DB_POOL_SIZE', arg: 'pool-size' },
    acquireTimeoutMs: {
      doc: 'How long a command waits for a free database connection before SERVER_ERROR.',
      format: 'positive-int', default: 2000, env: 'MEMGATE_DB_ACQUIRE_TIMEOUT_MS', arg: 'acquire-timeout-ms',
    },
    connectTimeoutMs: {
      doc: 'Timeout for opening one database connection.',
      format: 'positive-int', default: 2000, env: 'MEMGATE_DB_CONNECT_TIMEOUT_MS', arg: 'connect-timeout-ms',
    },
    statementTimeoutMs: {
      doc: 'A command whose statements get no answer from the database this long answers SERVER_ERROR.',
      format: 'positive-int', default: 5000, env: 'MEMGATE_DB_STATEMENT_TIMEOUT_MS', arg: 'statement-timeout-ms',
    },
    idleTimeoutMs: {
      doc: 'Idle database connections are closed after this long.',
      format: 'positive-int', default: 60000, env: 'MEMGATE_DB_IDLE_TIMEOUT_MS', arg: 'idle-timeout-ms',
    },
    waitAtStart: {
      doc: 'At start-up, when the database refuses the credentials or its host or database is unknown: false stops the gateway with the reason; true starts it anyway, answering SERVER_ERROR and warning until the database can be used. A database that is down or unreachable is always waited for.',
      format: 'bool', default: false, env: 'MEMGATE_DB_WAIT_AT_START', arg: 'db-wait-at-start',
    },
    sslMode: {
      doc: 'TLS to the database, with the mysql client\'s --ssl-mode meanings: disabled (plain TCP); preferred (TLS when the server offers it, else plain; the certificate is not checked); required (TLS or no connection; the certificate is not checked); verify-ca (also check the certificate against db.sslCa, or Node\'s public CAs without it); verify-identity (also check that it is issued to the host name in db.url). A node\'s URL may set its own: ?ssl-mode=verify-ca&ssl-ca=/path (also ssl-cert, ssl-key). memgate schema and memgate sweep use it too.',
      format: ['disabled', 'preferred', 'required', 'verify-ca', 'verify-identity'], default: 'disabled', env: 'MEMGATE_DB_SSL_MODE', arg: 'db-ssl-mode',
    },
    sslCa: {
      doc: 'PEM file of the CA certificate(s) that sign the database server\'s certificate (mysql --ssl-ca). Needs db.sslMode other than disabled.',
      format: 'path', default: '', env: 'MEMGATE_DB_SSL_CA', arg: 'db-ssl-ca',
    },
    sslCert: {
      doc: 'PEM file of the client certificate, for users created with REQUIRE X509 or SUBJECT (mysql --ssl-cert). Needs db.sslKey.',
      format: 'path', default: '', env: 'MEMGATE_DB_SSL_CERT', arg: 'db-ssl-cert',
    },
    sslKey: {
      doc: 'PEM file of the client certificate\'s private key (mysql --ssl-key). Needs db.sslCert.',
      format: 'path', default: '', env: 'MEMGATE_DB_SSL_KEY', arg: 'db-ssl-key',
    },
    casBlockSize: {
      doc: 'CAS values reserved from the database at a time.',
      format: 'positive-int', default: 1000, env: 'MEMGATE_CAS_BLOCK_SIZE', arg: 'cas-block-size',
    },
  },
  embedded: {
    dataDir: {
      doc: 'Data directory of the embedded MariaDB (used when db.url is empty).',
      format: 'path', default: '.memgate/mariadb', env: 'MEMGATE_EMBEDDED_DATA_DIR', arg: 'embedded-data-dir',
    },
    port: {
      doc: 'Port of the embedded MariaDB on 127.0.0.1.',
      format: 'tcp-port', default: 13306, env: 'MEMGATE_EMBEDDED_PORT', arg: 'embedded-port',
    },
    database: { doc: 'Database name inside the embedded MariaDB.', format: 'text', default: 'memgate', env: 'MEMGATE_EMBEDDED_DATABASE' },
  },
  items: {
    sizeMax: {
      doc: 'Largest item (key, value and overhead counted as memcached -I does).',
      format: 'size', default: 1048576, env: 'MEMGATE_ITEM_SIZE_MAX', arg: 'item-size-max',
    },
  },
  flushAll: {
    enabled: {
      doc: 'Whether flush_all is allowed (memcached -F turns it off). It hides every item in the table.',
      format: 'bool', default: true, env: 'MEMGATE_FLUSH_ALL_ENABLED', arg: 'flush-all-enabled',
    },
  },
  coalesce: {
    enabled: {
      doc: 'Merge concurrent gets of all clients into one IN (...) read, and concurrent plain sets into one multi-row upsert.',
      format: 'bool', default: true, env: 'MEMGATE_COALESCE_ENABLED', arg: 'coalesce-enabled',
    },
    maxInFlight: {
      doc: 'Merged reads running at once; gets arriving meanwhile wait and are merged into the next one.',
      format: 'positive-int', default: 1, env: 'MEMGATE_COALESCE_MAX_IN_FLIGHT', arg: 'coalesce-max-in-flight',
    },
    maxWritesInFlight: {
      doc: 'Merged writes running at once; each is a commit, so several let the database group their flushes.',
      format: 'positive-int', default: 2, env: 'MEMGATE_COALESCE_MAX_WRITES_IN_FLIGHT', arg: 'coalesce-max-writes-in-flight',
    },
    maxBatchKeys: {
      doc: 'Most keys in one merged read.',
      format: 'positive-int', default: 256, env: 'MEMGATE_COALESCE_MAX_BATCH_KEYS', arg: 'coalesce-max-batch-keys',
    },
    maxBatchBytes: {
      doc: 'Most value bytes in one merged write (k/m suffixes allowed); larger sets run alone.',
      format: 'size', default: 262144, env: 'MEMGATE_COALESCE_MAX_BATCH_BYTES', arg: 'coalesce-max-batch-bytes',
    },
    windowMs: {
      doc: 'How long a get or plain set that finds the database idle waits for others to merge with, in ms. 0: it starts at once (what arrives while statements run is merged anyway). A window trades latency for fewer, larger statements.',
      format: 'whole-number', default: 0, env: 'MEMGATE_COALESCE_WINDOW_MS', arg: 'coalesce-window-ms',
    },
  },
  sessions: {
    locks: {
      doc: 'Session locks (keys matching sessions.lockKeys) belong to the client connection that took them: released when it closes, taken over when its gateway has been silent for sessions.lockLiveness seconds, and released only by their holder. They are kept in a lock table that pays no disk flush. false: lock keys are items like any other, with plain memcached semantics.',
      format: 'bool', default: true, env: 'MEMGATE_SESSION_LOCKS', arg: 'session-locks',
    },
    lockKeys: {
      doc: 'Which keys are session locks: comma-separated patterns, * standing for any characters. The defaults are php-memcached\'s lock keys (memc.sess.key.lock.<id>, for the default memcached.sess_prefix) and pecl memcache\'s (<id>.lock).',
      format: 'text', default: 'memc.sess.key.lock.*,*.lock', env: 'MEMGATE_SESSION_LOCK_KEYS', arg: 'session-lock-keys',
    },
    dataKeys: {
      doc: 'The session data each lock of sessions.lockKeys protects, one pattern per lock pattern, in the same order; * is the session id in both. A copy of session data that PHP\'s handlers send to a second server is answered as stored and not written, since every gateway writes the same database, where the request\'s own write already is, and a copy that came late would overwrite a later request\'s session: a quiet set from a connection that does not hold the session\'s lock (php-memcached\'s replica copy), or a set followed on such a connection by a request on the lock (pecl memcache\'s redundant copy; the only kind for a lone *, pecl memcache\'s bare ids). Empty: copies are written. Gateways in one save_path must share one database.',
      format: 'text', default: 'memc.sess.key.*,*', env: 'MEMGATE_SESSION_DATA_KEYS', arg: 'session-data-keys',
    },
    lockWaitMs: {
      doc: 'How long an add of a session lock that another connection holds waits for its release before it answers NOT_STORED, in ms. PHP\'s handlers sleep 150 ms or more between tries; a waiting add gets the lock as soon as it is released, so requests on a busy session give up less often. 0: answer at once, as memcached does.',
      format: 'whole-number', default: 100, env: 'MEMGATE_SESSION_LOCK_WAIT_MS', arg: 'session-lock-wait-ms',
    },
    lockLiveness: {
      doc: 'Seconds after which a gateway that has stopped writing its heartbeat (killed, host lost) counts as dead, and other gateways take its session locks over. It writes one every fifth of this.',
      format: 'positive-int', default: 5, env: 'MEMGATE_SESSION_LOCK_LIVENESS', arg: 'session-lock-liveness',
    },
  },
  sasl: {
    passwordFile: {
      doc: 'File of username:password lines (memcached\'s MEMCACHED_SASL_PWDB format). When set, clients must authenticate with SASL PLAIN over the binary protocol, and text connections are refused, as with memcached -S. Empty: no authentication.',
      format: 'path', default: '', env: 'MEMGATE_SASL_PASSWORD_FILE', arg: 'sasl-password-file',
    },
  },
  sweeper: {
    interval: {
      doc: 'memgate serve: seconds between passes of the expiry sweeper, which deletes expired rows in batches. 0 turns it off (then run memgate sweep from cron). One gateway of many sweeps at a time.',
      format: 'whole-number', default: 0, env: 'MEMGATE_SWEEP_INTERVAL', arg: 'sweep-interval',
    },
    batchSize: {
      doc: 'Expired rows deleted per statement by the sweeper.',
      format: 'positive-int', default: 1000, env: 'MEMGATE_SWEEP_BATCH_SIZE', arg: 'sweep-batch-size',
    },
    pauseMs: {
      doc: 'Least pause between two sweeper batches; the sweeper also rests as long as its last batch took, so it backs off when the database is busy.',
      format: 'whole-number', default: 100, env: 'MEMGATE_SWEEP_PAUSE_MS', arg: 'sweep-pause-ms',
    },
    budget: {
      doc: 'Seconds one sweeper pass may run; what is left waits for the next pass. 0: no limit.',
      format: 'whole-number', default: 0, env: 'MEMGATE_SWEEP_BUDGET', arg: 'sweep-budget',
    },
  },
  admin: {
    port: {
      doc: 'TCP port of the admin HTTP listener: GET /metrics (Prometheus), /healthz, /readyz. 0: no admin listener (and no per-command metrics work). Off by default, since several gateways on one host would each need a port of their own; see docs/observability.md.',
      format: 'tcp-port', default: 0, env: 'MEMGATE_ADMIN_PORT', arg: 'admin-port',
    },
    host: {
      doc: 'Address of the admin listener. Anyone who reaches it can read the metrics; keep it on loopback or a management network.',
      format: 'text', default: '127.0.0.1', env: 'MEMGATE_ADMIN_HOST', arg: 'admin-host',
    },
  },
  log: {
    level: {
      doc: 'Log level.', format: ['error', 'warn', 'info', 'debug'], default: 'info', env: 'MEMGATE_LOG_LEVEL', arg: 'log-level',
    },
    format: { doc: 'Log format.', format: ['text', 'json'], default: 'text', env: 'MEMGATE_LOG_FORMAT', arg: 'log-format' },
  },
};

export type GatewayConfig = ReturnType<convict.Config<ConfigShape>['getProperties']>;

type Leaf<T> = T extends { default: infer D } ? (D extends string ? string : D extends number ? number : D extends boolean ? boolean : D) : never;
type Shape<S> = { [K in keyof S]: S[K] extends { default: unknown } ? Leaf<S[K]> : Shape<S[K]> };
export type ConfigShape = Shape<typeof configSchema>;
