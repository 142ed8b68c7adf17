/**
 * PHP sessions through two memgate gateways on one table, over the text protocol: php-memcached
 * with memcached.sess_binary_protocol=0, and the pecl memcache extension's handler.
 */
import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { freshTableName, getTestDatabaseUrl } from '../../helpers/database.js';
import {
  memcachedSettings,
  memcacheSettings,
  newSessionId,
  requirePhpExtensions,
  runPhp,
  startGateways,
  type GatewayPair,
  type PhpSettings,
} from './harness.js';
import {
  burstsOnNewSessions,
  destroyEmptiesTheSession,
  expectOk,
  hungHoldersLockExpires,
  killedHoldersLockGoesWithIt,
  manySessions,
  oneSharedSession,
  readSession,
  regenerateDropsTheOldId,
  secondRequestWaitsForTheLock,
  strictModeChecksIds,
} from './workloads.js';

describe('e2e: PHP sessions over the text protocol, two gateways on one table', function () {
  this.timeout(90_000);
  let pair: GatewayPair;
  let dbUrl: string;
  let ascii: PhpSettings;
  let memcache: PhpSettings;

  before(async function () {
    this.timeout(60_000);
    await requirePhpExtensions();
    dbUrl = await getTestDatabaseUrl();
    pair = await startGateways({ dbUrl, table: freshTableName('php_text') });
    ascii = memcachedSettings(pair.ports, { 'memcached.sess_binary_protocol': 0 });
    // Redundancy 1, not the default 2: with memgate both "copies" are the same row, written
    // twice; locks.test.ts runs the default redundancy on its own.
    memcache = memcacheSettings(pair.ports, { 'memcache.session_redundancy': 1 });
  });

  after(async () => {
    await pair?.stop();
  });

  describe('php-memcached, ASCII (memcached.sess_binary_protocol=0)', () => {
    it('concurrent requests on one session id: exact counter, no marker lost', async () => {
      await oneSharedSession('ascii, one session', ascii, 150);
    });

    it('many sessions in parallel, each exact', async () => {
      await manySessions('ascii', ascii, 30, 4);
    });

    it('bursts of requests on brand-new sessions: one lock winner at a time', async () => {
      await burstsOnNewSessions('ascii', ascii, 6);
    });

    it('session_regenerate_id(true) moves the data to a new id and drops the old one', async () => {
      await regenerateDropsTheOldId(ascii);
    });

    it('session_destroy() empties the session', async () => {
      await destroyEmptiesTheSession(ascii);
    });

    it('use_strict_mode=1 replaces an unknown id and keeps a known one', async () => {
      await strictModeChecksIds(ascii);
    });

    it('a second request on a locked session waits, then sees the first one\'s write', async () => {
      await secondRequestWaitsForTheLock(ascii, { ...ascii, 'memcached.sess_lock_retries': 40 });
    });

    it('CLI defaults (the lock never expires): a PHP process SIGKILLed holding the lock frees it, the next request starts within 1.5 s', async () => {
      await killedHoldersLockGoesWithIt(ascii);
    });

    it('sess_lock_expire=2: the lock of a hung request expires and is taken over', async () => {
      await hungHoldersLockExpires(ascii);
    });
  });

  describe('pecl memcache (session.save_handler=memcache, session_redundancy=1)', () => {
    it('concurrent requests on one session id: exact counter, no marker lost', async () => {
      await oneSharedSession('memcache, one session', memcache, 150);
    });

    it('many sessions in parallel, each exact', async () => {
      await manySessions('memcache', memcache, 30, 4);
    });

    it('bursts of requests on brand-new sessions: one lock winner at a time', async () => {
      await burstsOnNewSessions('memcache', memcache, 6);
    });

    it('session_regenerate_id(true) moves the data to a new id and drops the old one', async () => {
      await regenerateDropsTheOldId(memcache);
    });

    it('session_destroy() empties the session', async () => {
      await destroyEmptiesTheSession(memcache);
    });

    it('a second request on a locked session waits, then sees the first one\'s write', async () => {
      await secondRequestWaitsForTheLock(memcache, memcache);
    });

    it('a session over 20,000 bytes is stored zlib-compressed (flags 2) and read back through either gateway', async () => {
      // Compressible but not trivial: words from a small alphabet, about 40 kB serialized.
      const words = Array.from({ length: 8000 }, (_, i) => `w${(i * 7919) % 613}`);
      const data = { big: words.join(' '), n: 1 };
      const sid = newSessionId('big');
      expectOk(await runPhp(memcache, { action: 'put', sid, data }), 'put the big session');

      const connection = await mysql.createConnection(dbUrl);
      try {
        const [rows] = await connection.query(`SELECT flags, LENGTH(string_value) AS size, string_value AS value FROM \`${pair.table}\` WHERE mkey = ?`, [Buffer.from(sid)]);
        const row = (rows as Array<{ flags: number; size: number; value: Buffer }>)[0];
        expect(row, 'the session row').to.not.equal(undefined);
        expect(row!.flags, 'MMC_COMPRESSED').to.equal(2);
        expect(row!.size).to.be.below(20_000);
        expect(row!.value[0], 'a zlib stream').to.equal(0x78);
      } finally {
        await connection.end();
      }
      for (const port of pair.ports) {
        expect(await readSession(memcacheSettings([port], { 'memcache.session_redundancy': 1 }), sid), `read back through ${port} alone`).to.deep.equal(data);
      }
    });
  });
});
