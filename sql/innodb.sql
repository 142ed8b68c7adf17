-- memgate item table for InnoDB (MySQL 8, MariaDB 10.6+, Galera).
-- memgate applies this file with `memgate schema` and at start-up when the table is missing,
-- replacing the table name `kv` with the configured one (db.table). To apply it by hand:
--   sed 's/`kv`/`my_table`/g' sql/innodb.sql | mysql my_database
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

INSERT IGNORE INTO memgate_sequence (name, next_value) VALUES ('cas', 1);
