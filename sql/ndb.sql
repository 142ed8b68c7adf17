-- memgate item table for MySQL NDB Cluster (ENGINE=NDBCLUSTER), NDB 8.0.30 or later (8.4 LTS).
-- Same columns as sql/innodb.sql, so memgate's statements do not change. memgate applies this
-- file with db.engine = ndb (memgate schema --engine ndb), replacing `kv` with db.table.
-- expiry: absolute unix seconds by the database clock, 0 = never, as in sql/innodb.sql.
--
-- An NDB row holds at most 30,000 bytes. The value is a MEDIUMBLOB whose first 4,000 bytes are
-- kept in the row (BLOB_INLINE_SIZE, 1 to 29,980, NDB 8.0.30+): typical PHP sessions, locks and
-- counters are read and written in one operation, and longer values, up to items.sizeMax, go on
-- in parts of 13,948 bytes (MAX_BLOB_PART_SIZE) in NDB's hidden parts table. The row is about
-- 4,300 bytes at most: the key (250 + 2), the inline value with its blob head, five integers.
-- A larger inline size keeps larger values in the row and uses more DataMemory per row, so
-- check ndbinfo.memory_per_fragment before raising it. Every table here is NDBCLUSTER: the
-- CAS sequence, pending flush_all and sweeper lease must be shared by all SQL nodes.
CREATE TABLE IF NOT EXISTS `kv` (
  mkey         VARBINARY(250)  NOT NULL,
  string_value MEDIUMBLOB      NOT NULL COMMENT 'NDB_COLUMN=BLOB_INLINE_SIZE=4000,MAX_BLOB_PART_SIZE',
  flags        INT UNSIGNED    NOT NULL DEFAULT 0,
  cas_value    BIGINT UNSIGNED NOT NULL,
  expiry       INT UNSIGNED    NOT NULL DEFAULT 0,
  -- What memcached keeps in an item's flags for the meta protocol: 1 read once, 2 read again,
  -- 4 recache token handed out, 8 stale, 16 stored under a base64 key. A write clears them.
  item_state   TINYINT UNSIGNED NOT NULL DEFAULT 0,
  -- Last access, unix seconds by the database clock (0 = unknown): set by writes and by an
  -- item's second read, as memcached sets its item time.
  accessed_at  INT UNSIGNED    NOT NULL DEFAULT 0,
  -- NDB finds and places every row by the hash of its primary key. Without USING HASH it also
  -- keeps an ordered index on mkey (about 10 bytes a row), which flush_all walks in batches in
  -- key order. With the hash index alone, every batch would scan the whole table.
  PRIMARY KEY (mkey),
  -- The sweeper walks expired rows in (expiry, mkey) order. InnoDB's secondary indexes end
  -- with the primary key by themselves, an NDB ordered index does not, so mkey is listed.
  KEY expiry_idx (expiry, mkey)
) ENGINE=NDBCLUSTER;

CREATE TABLE IF NOT EXISTS memgate_sequence (
  name       VARCHAR(64)     NOT NULL,
  next_value BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (name)
) ENGINE=NDBCLUSTER;

-- A pending delayed flush_all per item table: until flush_at, writes get their expiry capped
-- at flush_at, so everything written before the deadline disappears at it, as in memcached.
CREATE TABLE IF NOT EXISTS memgate_flush (
  name     VARCHAR(64)  NOT NULL,
  flush_at INT UNSIGNED NOT NULL,
  PRIMARY KEY (name)
) ENGINE=NDBCLUSTER;

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
) ENGINE=NDBCLUSTER;

-- Session locks (php-memcached's memc.sess.key.lock.<sid>, pecl memcache's <sid>.lock; see
-- sessions.lockKeys). A lock means something only while the client connection that took it
-- is open, so it pays no redo-log flush: on NDB every table is in memory and a commit
-- flushes nothing; the lock table is NDBCLUSTER so that every SQL node sees the same locks.
-- A row is a held lock: owner is the gateway (memgate_gateways.gateway_id) and conn_id its
-- client connection. It is free again when its holder deletes it, when that connection
-- closes (the gateway deletes its rows), when it expires (expiry as in the item table), or
-- when its gateway has not written a heartbeat for sessions.lockLiveness seconds.
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
) ENGINE=NDBCLUSTER;

-- The gateways serving now: each writes heartbeat_at (unix seconds, database clock) every
-- sessions.lockLiveness / 5 seconds and deletes its row when it stops.
CREATE TABLE IF NOT EXISTS memgate_gateways (
  gateway_id   VARCHAR(64)  CHARACTER SET ascii NOT NULL,
  host         VARCHAR(255) NOT NULL,
  pid          INT UNSIGNED NOT NULL,
  started_at   INT UNSIGNED NOT NULL,
  heartbeat_at INT UNSIGNED NOT NULL,
  PRIMARY KEY USING HASH (gateway_id)
) ENGINE=NDBCLUSTER;

INSERT IGNORE INTO memgate_sequence (name, next_value) VALUES ('cas', 1);
