/**
 * Session locks that die with their holder, and session data that survives a database crash,
 * with real PHP, real gateways (child processes) and real MariaDB:
 *  - a gateway SIGKILLed while a request holds a lock through it: another gateway lets the
 *    session start within sessions.lockLiveness (5 s) plus a heartbeat;
 *  - two gateways in save_path with the extensions' redundancy on (pecl memcache's default
 *    session_redundancy=2, php-memcached sess_number_of_replicas=1): the late second copy of a
 *    release cannot free the next request's lock, so no increment is lost;
 *  - every session write PHP saw acknowledged before a kill -9 of mariadbd is there after it
 *    restarts (a SET is answered only once committed, innodb_flush_log_at_trx_commit=1).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { layoutFor } from '../../../src/embedded/layout.js';
import { startEmbeddedMariadb, type EmbeddedMariadb } from '../../../src/embedded/mariadb.js';
import { readPidFile } from '../../../src/embedded/process-utils.js';
import { findFreePort, freshTableName, getTestDatabaseUrl, testLogger } from '../../helpers/database.js';
import {
  markersOf,
  memcachedSettings,
  memcacheSettings,
  newSessionId,
  outcomeOf,
  PhpProcess,
  problemsOf,
  requirePhpExtensions,
  runPhp,
  sleep,
  startGateways,
  WRITE_FAILED,
  type GatewayPair,
} from './harness.js';
import { CONCURRENCY, expectOk, oneSharedSession, putSession, readSession } from './workloads.js';

/** 8 PHP processes at a time (CONCURRENCY) x 40 rounds on one session. */
const SHARED_REQUESTS = CONCURRENCY * 40;

describe('e2e: PHP session locks across gateways', function () {
  this.timeout(90_000);
  let pair: GatewayPair;

  before(async function () {
    this.timeout(60_000);
    await requirePhpExtensions();
    pair = await startGateways({ dbUrl: await getTestDatabaseUrl(), table: freshTableName('php_locks') });
  });

  after(async () => {
    await pair?.stop();
  });

  it('a gateway SIGKILLed while a request holds the lock through it: the session starts through the other gateway within 6 s, its data intact', async () => {
    const victim = pair.gateways[0]!;
    // CLI defaults: the lock never expires, only the gateway's death frees it.
    const [hostA, hostB] = pair.ports.map((port) => memcachedSettings([port]));
    const sid = await putSession(hostB!, { n: 1, markers: 'first,' });
    const holder = new PhpProcess(hostA!, { action: 'hold', sid, marker: 'lost' });
    let next: PhpProcess | undefined;
    try {
      expect(await holder.waitForLine('LOCKED'), holder.stderr).to.equal(true);
      await victim.kill('SIGKILL');
      const killedAt = Date.now();
      // Waits up to 80 x 150 ms for the lock.
      next = new PhpProcess({ ...hostB!, 'memcached.sess_lock_retries': 80 }, { action: 'hold', sid, marker: 'next' });
      holder.send('go');
      const held = await holder.done;
      expect(outcomeOf(held), 'the holder cannot write through its dead gateway').to.equal('error');
      expect(problemsOf(held).join('\n')).to.match(WRITE_FAILED);
      expect(await next.waitForLine('LOCKED', 10_000), `next: ${next.stdout} ${next.stderr}`).to.equal(true);
      const waited = Date.now() - killedAt;
      console.log(`      the session started through the other gateway ${waited} ms after the kill`);
      expect(waited, 'ms from the kill until the session started through the other gateway').to.be.below(6000);
      next.send('go');
      const run = await next.done;
      expectOk(run, 'the request through the other gateway');
      expect(run.result!.before, 'the data written before').to.deep.equal({ n: 1, markers: 'first,' });
    } finally {
      holder.child.kill('SIGKILL');
      next?.child.kill('SIGKILL');
      if (!victim.running) await victim.start();
    }
    expect(await readSession(hostA!, sid), 'through the restarted gateway').to.deep.equal({ n: 2, markers: 'first,next,' });
  });

  it(`pecl memcache, default session_redundancy (2), both gateways in save_path: ${CONCURRENCY} processes x 40 rounds on one session lose no increment`, async () => {
    await oneSharedSession('memcache, redundancy 2', memcacheSettings(pair.ports), SHARED_REQUESTS);
  });

  it(`php-memcached, sess_number_of_replicas=1, both gateways in save_path: ${CONCURRENCY} processes x 40 rounds on one session lose no increment`, async () => {
    // Shorter lock polls than the 150 ms default, and more of them, keep the run short.
    const replicas = memcachedSettings(pair.ports, {
      'memcached.sess_number_of_replicas': 1,
      'memcached.sess_lock_wait_min': 20,
      'memcached.sess_lock_wait_max': 40,
      'memcached.sess_lock_retries': 50,
    });
    await oneSharedSession('memcached, 1 replica', replicas, SHARED_REQUESTS);
  });
});

describe('e2e: PHP session writes and a kill -9 of the database', function () {
  this.timeout(90_000);
  let dir: string;
  let port: number;
  let mariadb: EmbeddedMariadb | undefined;
  let pair: GatewayPair | undefined;

  const startDatabase = async (): Promise<EmbeddedMariadb> =>
    (mariadb = await startEmbeddedMariadb({ dataDir: dir, port, database: 'memgate_crash', logger: testLogger() }));

  before(async function () {
    this.timeout(60_000);
    await requirePhpExtensions();
    dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-crash-'));
    port = await findFreePort();
  });

  after(async () => {
    await pair?.stop();
    await mariadb?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('every write acknowledged before mariadbd was SIGKILLed is there after it restarts', async () => {
    const db = await startDatabase();
    const probe = await mysql.createConnection(db.url);
    try {
      const [settings] = await probe.query('SELECT @@innodb_flush_log_at_trx_commit AS flush');
      expect(Number((settings as Array<{ flush: number }>)[0]!.flush), 'a commit is on disk when it is answered').to.equal(1);
    } finally {
      await probe.end();
    }
    pair = await startGateways({ dbUrl: db.url, table: 'kv', count: 1 });
    const php = memcachedSettings(pair.ports);

    // Each worker has two sessions of its own, so that no request waits for a lock.
    const sids = Array.from({ length: CONCURRENCY * 2 }, () => newSessionId('crash'));
    const acknowledged = new Map<string, { n: number; markers: string[] }>(sids.map((sid) => [sid, { n: 0, markers: [] }]));
    let stop = false;
    let killedAt = 0;
    let afterKill = 0;
    let failed = 0;
    const worker = async (w: number): Promise<void> => {
      for (let round = 0; !stop; round++) {
        const sid = sids[w * 2 + (round % 2)]!;
        const marker = `w${w}r${round}`;
        const run = await runPhp(php, { action: 'incr', sid, marker }, 15_000);
        const outcome = outcomeOf(run);
        if (outcome !== 'ok' && outcome !== 'warned') {
          failed += 1;
          await sleep(100);
          continue;
        }
        if (killedAt > 0) afterKill += 1;
        const n = Number((run.result!.before as { n?: number }).n ?? 0) + 1;
        const seen = acknowledged.get(sid)!;
        seen.n = Math.max(seen.n, n);
        seen.markers.push(marker);
      }
    };
    const load = Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
    try {
      await sleep(4000);
      const pid = await readPidFile(layoutFor(dir).pidFile);
      expect(pid, 'mariadbd pid').to.be.a('number');
      process.kill(pid!, 'SIGKILL');
      killedAt = Date.now();
      await sleep(1500);
    } finally {
      stop = true;
      await load;
    }
    await mariadb!.stop();
    const restartedAt = Date.now();
    await startDatabase();
    const writes = [...acknowledged.values()].reduce((sum, s) => sum + s.markers.length, 0);
    console.log(
      `      ${writes} acknowledged writes (${afterKill} answered after the kill), ${failed} failed; ` +
        `mariadbd back after ${Date.now() - restartedAt} ms`,
    );
    expect(writes, 'enough load to mean something').to.be.above(CONCURRENCY * 4);

    const readFailures: string[] = [];
    for (const sid of sids) {
      const seen = acknowledged.get(sid)!;
      // The gateway's pool reconnects on its own; the first request may still meet a dead connection.
      let session: Record<string, unknown> | undefined;
      for (let attempt = 0; attempt < 20 && session === undefined; attempt++) {
        const run = await runPhp(php, { action: 'get', sid });
        if (outcomeOf(run) === 'ok') session = Array.isArray(run.result!.before) ? {} : (run.result!.before ?? {});
        else {
          readFailures.push(problemsOf(run).join(' | '));
          await sleep(250);
        }
      }
      expect(session, `${sid} could be read after the restart`).to.not.equal(undefined);
      const markers = markersOf(session);
      expect(Number(session!.n ?? 0), `${sid}: counter >= the last acknowledged one`).to.be.at.least(seen.n);
      expect(seen.markers.filter((m) => !markers.includes(m)), `${sid}: acknowledged writes missing after the crash`).to.deep.equal([]);
    }
    if (readFailures.length > 0) console.log(`      ${readFailures.length} reads failed after the restart, e.g. ${readFailures[0]}`);
  });
});
