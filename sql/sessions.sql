-- PHP sessions stored through memgate, seen from SQL: views and queries for operators.
-- `memgate schema --sessions` applies it for your table (db.table). The item table is called
-- `kv` here and the views `kv_...`; to apply it by hand, replace every "`kv":
--   sed 's/`kv/`my_table/g' sql/sessions.sql | mysql my_database
-- Rows are memcached items (see sql/innodb.sql): mkey is the key, string_value the value,
-- expiry absolute unix seconds by the database clock with 0 = never; a row with
-- 0 < expiry <= UNIX_TIMESTAMP() is expired (invisible to every client, deleted later by the
-- sweeper), so every view below filters it out.
-- Session locks live in the lock table `kv_locks` (sql/innodb.sql), not in `kv`; gateways
-- run with sessions.locks false keep them as plain items, which the lock views do not show.
-- The views only read. Writing to the tables directly is safe for memgate (gateways keep no
-- cache), e.g. deleting a stuck lock; see the queries at the end.

-- ---------------------------------------------------------------------------------------
-- php-memcached (session.save_handler=memcached), default memcached.sess_prefix
-- "memc.sess.key.": session data under memc.sess.key.<sid>, its lock (value "1") under
-- memc.sess.key.lock.<sid>. PHP session ids never contain a dot, so "lock." cannot start
-- a session id. data is the raw session string (session.serialize_handler), flags 0.

-- Live sessions: id, size, expiry (NULL = never), whether a lock is held on it (by a live
-- gateway, see below: a request on the session would wait).
CREATE OR REPLACE VIEW `kv_php_sessions` AS
SELECT
  CAST(SUBSTRING(s.mkey, LENGTH('memc.sess.key.') + 1) AS CHAR CHARACTER SET ascii) AS session_id,
  LENGTH(s.string_value) AS bytes,
  NULLIF(s.expiry, 0) AS expires_at_unix,
  IF(s.expiry = 0, NULL, CAST(s.expiry AS SIGNED) - UNIX_TIMESTAMP()) AS seconds_left,
  EXISTS (
    SELECT 1 FROM `kv_locks` l
    WHERE l.lock_key = CONCAT('memc.sess.key.lock.', SUBSTRING(s.mkey, LENGTH('memc.sess.key.') + 1))
      AND (l.expiry = 0 OR l.expiry > UNIX_TIMESTAMP())
      AND l.owner IN (SELECT gateway_id FROM memgate_gateways WHERE heartbeat_at > UNIX_TIMESTAMP() - 5)
  ) AS locked,
  s.string_value AS data
FROM `kv` s
WHERE s.mkey LIKE 'memc.sess.key.%'
  AND s.mkey NOT LIKE 'memc.sess.key.lock.%'
  AND (s.expiry = 0 OR s.expiry > UNIX_TIMESTAMP());

-- Held session locks. Locks are not items: with sessions.locks on (the default) each is a row
-- of `kv_locks` (sql/innodb.sql) owned by one client connection of one gateway, and it goes when
-- that connection releases it or closes. holder_* is that gateway (memgate_gateways: one row per
-- running gateway), connection its client connection number, acquired_at_unix when the lock was
-- taken and held_seconds how long ago. expires_at_unix NULL means the lock never expires:
-- php-memcached gives a lock memcached.sess_lock_expire, or max_execution_time when that is 0
-- (0 in the CLI). holder_alive is 0 when the gateway has written no heartbeat for 5 s, the
-- gateways' setting sessions.lockLiveness (5 by default): its locks that are at least that old
-- too are free for the taking (the next taker replaces the row), and holder_host/holder_pid
-- are NULL once its row is gone.
CREATE OR REPLACE VIEW `kv_php_session_locks` AS
SELECT
  CAST(SUBSTRING(l.lock_key, LENGTH('memc.sess.key.lock.') + 1) AS CHAR CHARACTER SET ascii) AS session_id,
  l.owner AS holder_gateway_id,
  g.host AS holder_host,
  g.pid AS holder_pid,
  l.conn_id AS holder_connection,
  l.acquired_at AS acquired_at_unix,
  CAST(UNIX_TIMESTAMP() AS SIGNED) - CAST(l.acquired_at AS SIGNED) AS held_seconds,
  NULLIF(l.expiry, 0) AS expires_at_unix,
  IF(l.expiry = 0, NULL, CAST(l.expiry AS SIGNED) - UNIX_TIMESTAMP()) AS seconds_left,
  COALESCE(g.heartbeat_at > UNIX_TIMESTAMP() - 5, 0) AS holder_alive
FROM `kv_locks` l
LEFT JOIN memgate_gateways g ON g.gateway_id = l.owner
WHERE l.lock_key LIKE 'memc.sess.key.lock.%'
  AND (l.expiry = 0 OR l.expiry > UNIX_TIMESTAMP());

-- ---------------------------------------------------------------------------------------
-- pecl memcache (session.save_handler=memcache). Its keys are the bare session id and
-- "<sid>.lock", so they cannot be told apart from other items in a shared table. Give the
-- sessions a prefix with memcache.session_prefix_static_key=phpsess_ (no dots allowed; the
-- views below assume "phpsess_"), or a table of their own. Its lock is a row of `kv_locks`
-- too while held (pecl memcache releases it with a set to "0", which removes the row).
-- Sessions larger than memcache.compress_threshold (20000 bytes) are stored zlib-compressed
-- with flags 2 (compressed = 1 below); their data must be inflated by the reader.

CREATE OR REPLACE VIEW `kv_php_memcache_sessions` AS
SELECT
  CAST(SUBSTRING(s.mkey, LENGTH('phpsess_') + 1) AS CHAR CHARACTER SET ascii) AS session_id,
  LENGTH(s.string_value) AS bytes,
  (s.flags & 2) <> 0 AS compressed,
  NULLIF(s.expiry, 0) AS expires_at_unix,
  IF(s.expiry = 0, NULL, CAST(s.expiry AS SIGNED) - UNIX_TIMESTAMP()) AS seconds_left,
  s.string_value AS data
FROM `kv` s
WHERE s.mkey LIKE 'phpsess|_%' ESCAPE '|'
  AND s.mkey NOT LIKE '%.lock'
  AND (s.expiry = 0 OR s.expiry > UNIX_TIMESTAMP());

-- The same columns as `kv_php_session_locks`.
CREATE OR REPLACE VIEW `kv_php_memcache_session_locks` AS
SELECT
  CAST(SUBSTRING(l.lock_key, LENGTH('phpsess_') + 1, LENGTH(l.lock_key) - LENGTH('phpsess_') - LENGTH('.lock')) AS CHAR CHARACTER SET ascii) AS session_id,
  l.owner AS holder_gateway_id,
  g.host AS holder_host,
  g.pid AS holder_pid,
  l.conn_id AS holder_connection,
  l.acquired_at AS acquired_at_unix,
  CAST(UNIX_TIMESTAMP() AS SIGNED) - CAST(l.acquired_at AS SIGNED) AS held_seconds,
  NULLIF(l.expiry, 0) AS expires_at_unix,
  IF(l.expiry = 0, NULL, CAST(l.expiry AS SIGNED) - UNIX_TIMESTAMP()) AS seconds_left,
  COALESCE(g.heartbeat_at > UNIX_TIMESTAMP() - 5, 0) AS holder_alive
FROM `kv_locks` l
LEFT JOIN memgate_gateways g ON g.gateway_id = l.owner
WHERE l.lock_key LIKE 'phpsess|_%.lock' ESCAPE '|'
  AND (l.expiry = 0 OR l.expiry > UNIX_TIMESTAMP());

-- ---------------------------------------------------------------------------------------
-- Queries (php-memcached keys; for the memcache handler use 'phpsess_' and the views above).
-- ? is a session id or a number of seconds, as a client library binds it.
--
-- How many sessions, and how much data:
--   SELECT COUNT(*) AS sessions, COALESCE(SUM(bytes), 0) AS total_bytes, MAX(bytes) AS largest FROM `kv_php_sessions`;
--
-- Sessions expiring within the next ? seconds, soonest first:
--   SELECT session_id, seconds_left, bytes FROM `kv_php_sessions`
--   WHERE seconds_left IS NOT NULL AND seconds_left <= ? ORDER BY seconds_left;
--
-- One session's data and size by id (a primary-key lookup; the views scan the key range):
--   SELECT CAST(string_value AS CHAR) AS data, LENGTH(string_value) AS bytes, NULLIF(expiry, 0) AS expires_at_unix
--   FROM `kv` WHERE mkey = CONCAT('memc.sess.key.', ?) AND (expiry = 0 OR expiry > UNIX_TIMESTAMP());
--
-- The largest sessions:
--   SELECT session_id, bytes FROM `kv_php_sessions` ORDER BY bytes DESC LIMIT 20;
--
-- Locks held for more than ? seconds, the longest first, with the gateway that holds them:
--   SELECT session_id, held_seconds, holder_host, holder_pid, holder_alive FROM `kv_php_session_locks`
--   WHERE held_seconds > ? ORDER BY held_seconds DESC;
-- Releasing one by hand (the request holding it then cannot release it, and its write is not
-- protected from the next request any more):
--   DELETE FROM `kv_locks` WHERE lock_key = CONCAT('memc.sess.key.lock.', ?);
-- Lock keys stored as plain items in `kv` (by a gateway with sessions.locks false, or by a
-- memgate that had no lock table): gateways with sessions.locks on never read them:
--   DELETE FROM `kv` WHERE mkey LIKE 'memc.sess.key.lock.%';
--
-- Ending a session (what session_destroy() does):
--   DELETE FROM `kv` WHERE mkey = CONCAT('memc.sess.key.', ?);
