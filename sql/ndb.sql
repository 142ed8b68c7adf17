-- memgate item table for MySQL NDB Cluster (ENGINE=NDBCLUSTER).
-- Same columns as sql/innodb.sql, so memgate's statements do not change. NDB rows are at most
-- 30,000 bytes: the value lives in a BLOB whose first 4,000 bytes are stored inline, so typical
-- sessions stay in the row while values up to the item size limit still work.
-- memgate applies this file (db.engine = ndb) replacing `kv` with db.table.
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
  PRIMARY KEY USING HASH (mkey),
  -- The sweeper walks expired rows in (expiry, mkey) order. InnoDB's secondary indexes end
  -- with the primary key by themselves; an NDB ordered index does not, so mkey is listed.
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

INSERT IGNORE INTO memgate_sequence (name, next_value) VALUES ('cas', 1);
