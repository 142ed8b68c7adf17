-- PHP sessions stored through memgate, seen from SQL: views and queries for operators.
-- `memgate schema --sessions` applies it for your table (db.table). The item table is called
-- `kv` here and the views `kv_...`; to apply it by hand, replace every "`kv":
--   sed 's/`kv/`my_table/g' sql/sessions.sql | mysql my_database
-- Rows are memcached items (see sql/innodb.sql): mkey is the key, string_value the value,
-- expiry absolute unix seconds by the database clock with 0 = never; a row with
-- 0 < expiry <= UNIX_TIMESTAMP() is expired (invisible to every client, deleted later by the
-- sweeper), so every view below filters it out.
-- The views only read. Writing to the table directly is safe for memgate (gateways keep no
-- cache), e.g. deleting a stuck lock; see the queries at the end.

-- ---------------------------------------------------------------------------------------
-- php-memcached (session.save_handler=memcached), default memcached.sess_prefix
-- "memc.sess.key.": session data under memc.sess.key.<sid>, its lock (value "1") under
-- memc.sess.key.lock.<sid>. PHP session ids never contain a dot, so "lock." cannot start
-- a session id. data is the raw session string (session.serialize_handler), flags 0.

-- Live sessions: id, size, expiry (NULL = never), whether a live lock is held on it.
CREATE OR REPLACE VIEW `kv_php_sessions` AS
SELECT
  CAST(SUBSTRING(s.mkey, LENGTH('memc.sess.key.') + 1) AS CHAR CHARACTER SET ascii) AS session_id,
  LENGTH(s.string_value) AS bytes,
  NULLIF(s.expiry, 0) AS expires_at_unix,
  IF(s.expiry = 0, NULL, CAST(s.expiry AS SIGNED) - UNIX_TIMESTAMP()) AS seconds_left,
  EXISTS (
    SELECT 1 FROM `kv` l
    WHERE l.mkey = CONCAT('memc.sess.key.lock.', SUBSTRING(s.mkey, LENGTH('memc.sess.key.') + 1))
      AND (l.expiry = 0 OR l.expiry > UNIX_TIMESTAMP())
  ) AS locked,
  s.string_value AS data
FROM `kv` s
WHERE s.mkey LIKE 'memc.sess.key.%'
  AND s.mkey NOT LIKE 'memc.sess.key.lock.%'
  AND (s.expiry = 0 OR s.expiry > UNIX_TIMESTAMP());

-- Held session locks. expires_at_unix NULL means the lock never expires: php-memcached gives
-- a lock the expiry memcached.sess_lock_expire, or max_execution_time when that is 0 (0 in
-- the CLI). A request killed while holding such a lock leaves the session locked for good.
CREATE OR REPLACE VIEW `kv_php_session_locks` AS
SELECT
  CAST(SUBSTRING(mkey, LENGTH('memc.sess.key.lock.') + 1) AS CHAR CHARACTER SET ascii) AS session_id,
  NULLIF(expiry, 0) AS expires_at_unix,
  IF(expiry = 0, NULL, CAST(expiry AS SIGNED) - UNIX_TIMESTAMP()) AS seconds_left
FROM `kv`
WHERE mkey LIKE 'memc.sess.key.lock.%'
  AND (expiry = 0 OR expiry > UNIX_TIMESTAMP());

-- ---------------------------------------------------------------------------------------
-- pecl memcache (session.save_handler=memcache). Its keys are the bare session id and
-- "<sid>.lock", so they cannot be told apart from other items in a shared table. Give the
-- sessions a prefix with memcache.session_prefix_static_key=phpsess_ (no dots allowed; the
-- views below assume "phpsess_"), or a table of their own. The lock is not deleted on release
-- but set to "0" (flags 768, expiry 15 s); held means a live lock whose value is not "0".
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

CREATE OR REPLACE VIEW `kv_php_memcache_session_locks` AS
SELECT
  CAST(SUBSTRING(mkey, LENGTH('phpsess_') + 1, LENGTH(mkey) - LENGTH('phpsess_') - LENGTH('.lock')) AS CHAR CHARACTER SET ascii) AS session_id,
  NULLIF(expiry, 0) AS expires_at_unix,
  IF(expiry = 0, NULL, CAST(expiry AS SIGNED) - UNIX_TIMESTAMP()) AS seconds_left
FROM `kv`
WHERE mkey LIKE 'phpsess|_%.lock' ESCAPE '|'
  AND string_value <> '0'
  AND (expiry = 0 OR expiry > UNIX_TIMESTAMP());

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
-- Locks held longer than they should be (never-expiring ones; a request that was killed):
--   SELECT session_id FROM `kv_php_session_locks` WHERE expires_at_unix IS NULL;
-- Releasing one by hand (only when no request holds it any more):
--   DELETE FROM `kv` WHERE mkey = CONCAT('memc.sess.key.lock.', ?);
--
-- Ending a session (what session_destroy() does):
--   DELETE FROM `kv` WHERE mkey IN (CONCAT('memc.sess.key.', ?), CONCAT('memc.sess.key.lock.', ?));
