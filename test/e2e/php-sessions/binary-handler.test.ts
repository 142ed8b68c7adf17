/**
 * PHP sessions through two memgate gateways on one table with php-memcached's defaults:
 * binary protocol, locking on, both gateways in session.save_path.
 */
import { freshTableName, getTestDatabaseUrl } from '../../helpers/database.js';
import { memcachedSettings, memcacheSettings, requirePhpExtensions, startGateways, type GatewayPair, type PhpSettings } from './harness.js';
import {
  burstsOnNewSessions,
  destroyEmptiesTheSession,
  hungHoldersLockExpires,
  killedHoldersLockGoesWithIt,
  manySessions,
  oneSharedSession,
  regenerateDropsTheOldId,
  secondRequestWaitsForTheLock,
  strictModeChecksIds,
} from './workloads.js';

describe('e2e: PHP sessions with php-memcached defaults (binary protocol), two gateways on one table', function () {
  this.timeout(90_000);
  let pair: GatewayPair;
  let binary: PhpSettings;

  before(async function () {
    this.timeout(60_000);
    await requirePhpExtensions();
    pair = await startGateways({ dbUrl: await getTestDatabaseUrl(), table: freshTableName('php_bin') });
    binary = memcachedSettings(pair.ports);
  });

  after(async () => {
    await pair?.stop();
  });

  it('concurrent requests on one session id: exact counter, no marker lost', async () => {
    await oneSharedSession('binary, one session', binary, 150);
  });

  it('many sessions in parallel, each exact', async () => {
    await manySessions('binary', binary, 30, 4);
  });

  it('bursts of requests on brand-new sessions: one lock winner at a time', async () => {
    await burstsOnNewSessions('binary', binary, 6);
  });

  it('session_regenerate_id(true) moves the data to a new id and drops the old one', async () => {
    await regenerateDropsTheOldId(binary);
  });

  it('session_destroy() empties the session', async () => {
    await destroyEmptiesTheSession(binary);
  });

  it('use_strict_mode=1 replaces an unknown id and keeps a known one', async () => {
    await strictModeChecksIds(binary);
  });

  it('a second request on a locked session waits, then sees the first one\'s write', async () => {
    await secondRequestWaitsForTheLock(binary, { ...binary, 'memcached.sess_lock_retries': 40 });
  });

  it('CLI defaults (the lock never expires): a PHP process SIGKILLed holding the lock frees it, the next request starts within 1.5 s', async () => {
    await killedHoldersLockGoesWithIt(binary);
  });

  it('sess_lock_expire=2: the lock of a hung request expires and is taken over', async () => {
    await hungHoldersLockExpires(binary);
  });

  describe('pecl memcache over the binary protocol (memcache.protocol=binary, session_redundancy=1)', () => {
    let memcacheBinary: PhpSettings;
    before(() => {
      memcacheBinary = memcacheSettings(pair.ports, { 'memcache.protocol': 'binary', 'memcache.session_redundancy': 1 });
    });

    it('concurrent requests on one session id: exact counter, no marker lost', async () => {
      await oneSharedSession('memcache binary, one session', memcacheBinary, 80);
    });

    it('bursts on brand-new sessions (binary INCR with an initial value creates the lock)', async () => {
      await burstsOnNewSessions('memcache binary', memcacheBinary, 6);
    });

    it('session_regenerate_id(true) and session_destroy()', async () => {
      await regenerateDropsTheOldId(memcacheBinary);
      await destroyEmptiesTheSession(memcacheBinary);
    });
  });
});
