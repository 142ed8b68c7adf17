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
  KEY expiry_idx (expiry)
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

INSERT IGNORE INTO memgate_sequence (name, next_value) VALUES ('cas', 1);
