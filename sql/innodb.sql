-- memgate item table for InnoDB (MySQL 8, MariaDB 10.6+, Galera).
-- memgate applies this file with `memgate schema` and at start-up when the table is missing,
-- replacing the table name `kv` with the configured one (db.table). To apply it by hand:
--   sed 's/`kv/`my_table/g' sql/innodb.sql | mysql my_database
-- expiry: absolute unix seconds by the database clock, 0 = never; a row with
-- 0 < expiry <= UNIX_TIMESTAMP() is expired and invisible to every command.
CREATE TABLE IF NOT EXISTS `kv` (
  mkey         VARBINARY(250)  NOT NULL,
  string_value MEDIUMBLOB      NOT NULL,
  flags        INT UNSIGNED    NOT NULL DEFAULT 0,
  cas_value    BIGINT UNSIGNED NOT NULL,
  expiry       INT UNSIGNED    NOT NULL DEFAULT 0,
  -- What memcached keeps in an item's flags for the meta protocol: 1 read once, 2 read again,
  -- 4 recache token handed out, 8 stale, 16 stored under a base64 key. A write clears them.
  item_state   TINYINT UNSIGNED NOT NULL DEFAULT 0,
  -- Last access, unix seconds by the database clock (0 = unknown): set by writes and by an
  -- item's second read, as memcached sets its item time.
  accessed_at  INT UNSIGNED    NOT NULL DEFAULT 0,
  PRIMARY KEY (mkey),
  KEY expiry_idx (expiry)
) ENGINE=InnoDB;

-- CAS values come from here in blocks, so they are unique across every gateway and never
-- repeat, even for a key deleted and added again.
CREATE TABLE IF NOT EXISTS memgate_sequence (
  name       VARCHAR(64)     NOT NULL,
  next_value BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB;

-- A pending delayed flush_all per item table: until flush_at, writes get their expiry capped
-- at flush_at, so everything written before the deadline disappears at it, as in memcached.
CREATE TABLE IF NOT EXISTS memgate_flush (
  name     VARCHAR(64)  NOT NULL,
  flush_at INT UNSIGNED NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB;

-- Leases that keep work from being done twice across gateways and hosts (the expiry sweeper
-- takes 'sweep:<table>'). Taken with an UPDATE whose WHERE only matches a free or own lease,
-- judged by the database clock; unlike GET_LOCK this works on Galera and NDB too. version
-- changes on every take and renewal, so the UPDATE always reports the row it won as changed.
CREATE TABLE IF NOT EXISTS memgate_lease (
  name       VARCHAR(128)    NOT NULL,
  holder     VARCHAR(255)    NOT NULL,
  expires_at INT UNSIGNED    NOT NULL,
  version    BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (name)
) ENGINE=InnoDB;

-- Session locks (php-memcached's memc.sess.key.lock.<sid>, pecl memcache's <sid>.lock; see
-- sessions.lockKeys). A lock means something only while the client connection that took it
-- is open, so it pays no redo-log flush: ENGINE=MEMORY on InnoDB and Galera. MEMORY rows are
-- not replicated by Galera and are gone after a restart of the server: every gateway sends lock
-- statements to the same writer node, and a restart or a writer failover frees every lock once
-- (the sessions' data is not touched). The table's capacity is max_heap_table_size when it is
-- created (raised to 256 MB below for this session) or, after a restart, the global value.
-- A row is a held lock: owner is the gateway (memgate_gateways.gateway_id) and conn_id its
-- client connection. It is free again when its holder deletes it, when that connection
-- closes (the gateway deletes its rows), when it expires (expiry as in the item table), or
-- when its gateway has not written a heartbeat for sessions.lockLiveness seconds.
SET SESSION max_heap_table_size = 268435456;
CREATE TABLE IF NOT EXISTS `kv_locks` (
  lock_key    VARBINARY(250)  NOT NULL,
  lock_value  VARBINARY(255)  NOT NULL,
  flags       INT UNSIGNED    NOT NULL DEFAULT 0,
  owner       VARCHAR(64)     CHARACTER SET ascii NOT NULL,
  conn_id     BIGINT UNSIGNED NOT NULL,
  acquired_at INT UNSIGNED    NOT NULL,
  expiry      INT UNSIGNED    NOT NULL DEFAULT 0,
  -- changes on every take and refresh, so that the statement always reports the row it won
  version     BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY USING HASH (lock_key)
) ENGINE=MEMORY;

-- The gateways serving now: each writes heartbeat_at (unix seconds, database clock) every
-- sessions.lockLiveness / 5 seconds and deletes its row when it stops.
CREATE TABLE IF NOT EXISTS memgate_gateways (
  gateway_id   VARCHAR(64)  CHARACTER SET ascii NOT NULL,
  host         VARCHAR(255) NOT NULL,
  pid          INT UNSIGNED NOT NULL,
  started_at   INT UNSIGNED NOT NULL,
  heartbeat_at INT UNSIGNED NOT NULL,
  PRIMARY KEY USING HASH (gateway_id)
) ENGINE=MEMORY;

INSERT IGNORE INTO memgate_sequence (name, next_value) VALUES ('cas', 1);
