/**
 * sql/sessions.sql (views and documented queries for operators) applied to the table PHP
 * wrote through two gateways; every answer is checked against what PHP wrote.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { freshTableName, getTestDatabaseUrl } from '../../helpers/database.js';
import {
  memcachedSettings,
  memcacheSettings,
  newSessionId,
  PhpProcess,
  requirePhpExtensions,
  runPhp,
  sleep,
  startGateways,
  type GatewayPair,
  type PhpSettings,
} from './harness.js';
import { expectOk, putSession, readSession } from './workloads.js';

const SESSIONS_SQL = fileURLToPath(new URL('../../../../sql/sessions.sql', import.meta.url));

/** The file's statements and its documented queries (comment lines indented by 3 spaces). */
async function loadSessionsSql(table: string): Promise<{ statements: string[]; queries: string[] }> {
  const text = (await readFile(SESSIONS_SQL, 'utf8')).replaceAll('`kv', `\`${table}`);
  const statements = text
    .replace(/^--.*$/gm, '')
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const queries: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    const m = /^-- {3}(.*)$/.exec(line);
    if (!m) {
      current = '';
      continue;
    }
    current += `${m[1]} `;
    if (m[1]!.trimEnd().endsWith(';')) {
      queries.push(current.trim().replace(/;$/, ''));
      current = '';
    }
  }
  return { statements, queries };
}

/** The serialized form PHP's default session serializer gives string values. */
function phpSession(data: Record<string, string>): string {
  return Object.entries(data).map(([key, value]) => `${key}|s:${Buffer.byteLength(value)}:"${value}";`).join('');
}

type Row = Record<string, unknown>;

describe('e2e: PHP sessions seen through sql/sessions.sql', function () {
  this.timeout(60_000);
  let pair: GatewayPair;
  let db: mysql.Connection;
  let queries: string[];
  let settings: PhpSettings;

  function query(containing: string): string {
    const found = queries.filter((q) => q.includes(containing));
    expect(found, `one documented query containing ${containing}`).to.have.length(1);
    return found[0]!;
  }

  async function rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    const [result] = await db.query(sql, params);
    return result as Row[];
  }

  const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value));

  /**
   * The lock view shows exactly one lock: on `sid`, taken at or after `since` (unix s), held
   * through one of the pair's gateways (its id, host and pid as that gateway registered them),
   * alive, expiring in about `lifetime` seconds (null: never).
   */
  async function expectOneHeldLock(view: string, sid: string, since: number, lifetime: number | null): Promise<void> {
    const locks = await rows(`SELECT * FROM \`${view}\``);
    expect(locks.map((r) => r.session_id), view).to.deep.equal([sid]);
    const lock = locks[0]!;
    const now = Math.floor(Date.now() / 1000);
    const pids = pair.gateways.map((g) => g.child!.pid);
    expect(pids, 'held through one of the two gateways').to.include(Number(lock.holder_pid));
    const [gateway] = await rows('SELECT gateway_id, host FROM memgate_gateways WHERE pid = ?', [lock.holder_pid]);
    expect(lock.holder_gateway_id, 'the holder is the registered gateway with that pid').to.equal(gateway!.gateway_id);
    expect(lock.holder_host).to.equal(os.hostname());
    expect(Number(lock.holder_connection), 'a client connection number').to.be.above(0);
    expect(Number(lock.acquired_at_unix), 'acquired_at').to.be.within(since - 1, now + 1);
    expect(Number(lock.held_seconds), 'held_seconds').to.be.within(0, now - since + 1);
    expect(Number(lock.holder_alive), 'its gateway is alive').to.equal(1);
    if (lifetime === null) {
      expect(lock.expires_at_unix, 'never expires').to.equal(null);
      expect(lock.seconds_left).to.equal(null);
    } else {
      expect(Number(lock.seconds_left), 'seconds_left').to.be.within(lifetime - (now - since) - 2, lifetime);
      expect(Number(lock.expires_at_unix) - now).to.be.within(Number(lock.seconds_left) - 2, Number(lock.seconds_left) + 2);
    }
  }

  before(async function () {
    this.timeout(60_000);
    await requirePhpExtensions();
    const dbUrl = await getTestDatabaseUrl();
    pair = await startGateways({ dbUrl, table: freshTableName('php_sql') });
    db = await mysql.createConnection(dbUrl);
    const loaded = await loadSessionsSql(pair.table);
    queries = loaded.queries;
    expect(loaded.statements).to.have.length(4);
    for (const statement of loaded.statements) await db.query(statement);
    // php-memcached defaults (binary protocol); ASCII writes the same rows.
    settings = memcachedSettings(pair.ports);
  });

  after(async () => {
    await db?.end();
    await pair?.stop();
  });

  it('php-memcached: sessions, sizes, expiry, data by id, locks, and the operator queries', async () => {
    const small = { user: 'alice' };
    const big = { user: 'bob', note: 'x'.repeat(5000) };
    const soon = { user: 'carol' };
    const sSmall = await putSession(settings, small);
    const sBig = await putSession(settings, big);
    const sSoon = await putSession({ ...settings, 'session.gc_maxlifetime': 120 }, soon);
    const sGone = await putSession(settings, { user: 'gone' });
    expectOk(await runPhp(settings, { action: 'destroy', sid: sGone }), 'destroy');
    // A strict-mode probe of an unknown id: php-memcached's born-expired ADD must not show up.
    const probe = await runPhp({ ...settings, 'session.use_strict_mode': 1 }, { action: 'strict', sid: newSessionId('probe') });
    expectOk(probe, 'strict probe');
    const sProbeReplacement = probe.result!.id;
    const sHeld = await putSession(settings, { user: 'dave' });
    const expected = new Map([
      [sSmall, phpSession(small)],
      [sBig, phpSession(big)],
      [sSoon, phpSession(soon)],
      [sProbeReplacement, ''],
      [sHeld, phpSession({ user: 'dave' })],
    ]);

    // A request holding the lock (CLI: the lock never expires); the lock is then released by hand.
    const heldSince = Math.floor(Date.now() / 1000);
    const holder = new PhpProcess(settings, { action: 'hold', sid: sHeld, marker: 'never' });
    try {
      expect(await holder.waitForLine('LOCKED'), holder.stderr).to.equal(true);
      const sessions = await rows(`SELECT * FROM \`${pair.table}_php_sessions\``);
      expect(sessions.map((r) => r.session_id).sort(), 'live sessions').to.deep.equal([...expected.keys()].sort());
      for (const row of sessions) {
        const sid = String(row.session_id);
        expect(text(row.data), sid).to.equal(expected.get(sid));
        expect(Number(row.bytes), sid).to.equal(Buffer.byteLength(expected.get(sid)!));
        expect(Number(row.locked), sid).to.equal(sid === sHeld ? 1 : 0);
        const left = Number(row.seconds_left);
        if (sid === sSoon) expect(left, sid).to.be.within(60, 120);
        else expect(left, sid).to.be.within(1380, 1440);
        expect(Number(row.expires_at_unix) - Math.floor(Date.now() / 1000), sid).to.be.within(left - 5, left + 5);
      }
      await expectOneHeldLock(`${pair.table}_php_session_locks`, sHeld, heldSince, null);
      const [lockItems] = await rows(`SELECT COUNT(*) AS n FROM \`${pair.table}\` WHERE mkey LIKE 'memc.sess.key.lock.%'`);
      expect(Number(lockItems!.n), 'a lock is not an item').to.equal(0);
      // Older than 1 s, so that "held for more than 0 seconds" finds it.
      await sleep(1100);
      expect((await rows(query('held_seconds > ?'), [0])).map((r) => r.session_id)).to.deep.equal([sHeld]);
      expect(await rows(query('held_seconds > ?'), [60])).to.deep.equal([]);

      // Released by hand while the request runs: the next request gets the session at once.
      await rows(query("DELETE FROM `" + pair.table + "_locks` WHERE lock_key = CONCAT('memc.sess.key.lock.', ?)"), [sHeld]);
      expect(await rows(`SELECT * FROM \`${pair.table}_php_session_locks\``)).to.deep.equal([]);
      expectOk(await runPhp(settings, { action: 'incr', sid: sHeld, marker: 'after' }), 'a request once the lock is gone');
      expected.set(sHeld, 'user|s:4:"dave";n|i:1;markers|s:6:"after,";');
      holder.child.kill('SIGKILL');
      await holder.done;
    } finally {
      holder.child.kill('SIGKILL');
    }

    // A request killed while holding the lock: the view shows it, then not once its connection closed.
    const killed = new PhpProcess(settings, { action: 'hold', sid: sHeld, marker: 'killed' });
    try {
      expect(await killed.waitForLine('LOCKED'), killed.stderr).to.equal(true);
      const [locked] = await rows(`SELECT locked FROM \`${pair.table}_php_sessions\` WHERE session_id = ?`, [sHeld]);
      expect(Number(locked!.locked)).to.equal(1);
      killed.child.kill('SIGKILL');
      await killed.done;
    } finally {
      killed.child.kill('SIGKILL');
    }
    const killedAt = Date.now();
    while ((await rows(`SELECT * FROM \`${pair.table}_php_session_locks\``)).length > 0) {
      expect(Date.now() - killedAt, 'the killed request\'s lock is gone within 1 s').to.be.below(1000);
      await sleep(50);
    }
    const [unlocked] = await rows(`SELECT locked FROM \`${pair.table}_php_sessions\` WHERE session_id = ?`, [sHeld]);
    expect(Number(unlocked!.locked)).to.equal(0);

    // An unchanged session is only touched (lazy_write): its expiry moves, its data stays.
    await readSession({ ...settings, 'session.gc_maxlifetime': 600 }, sSmall);
    const [touched] = await rows(`SELECT seconds_left, data FROM \`${pair.table}_php_sessions\` WHERE session_id = ?`, [sSmall]);
    expect(Number(touched!.seconds_left), 'touched to 600 s').to.be.within(540, 600);
    expect(text(touched!.data)).to.equal(phpSession(small));
    // gc_maxlifetime above 30 days goes on the wire as an absolute unix time.
    await readSession({ ...settings, 'session.gc_maxlifetime': 5_000_000 }, sSmall);
    const [far] = await rows(`SELECT seconds_left FROM \`${pair.table}_php_sessions\` WHERE session_id = ?`, [sSmall]);
    expect(Number(far!.seconds_left), 'about 5,000,000 s').to.be.within(5_000_000 - 60, 5_000_000);

    const [count] = await rows(query('COUNT(*) AS sessions'));
    expect(Number(count!.sessions)).to.equal(expected.size);
    expect(Number(count!.total_bytes)).to.equal([...expected.values()].reduce((sum, v) => sum + Buffer.byteLength(v), 0));
    expect(Number(count!.largest)).to.equal(Buffer.byteLength(phpSession(big)));

    expect((await rows(query('seconds_left <= ?'), [300])).map((r) => r.session_id)).to.deep.equal([sSoon]);

    const [one] = await rows(query("FROM `" + pair.table + "` WHERE mkey = CONCAT('memc.sess.key.', ?) AND"), [sBig]);
    expect(text(one!.data)).to.equal(phpSession(big));
    expect(Number(one!.bytes)).to.equal(Buffer.byteLength(phpSession(big)));
    expect(await rows(query("FROM `" + pair.table + "` WHERE mkey = CONCAT('memc.sess.key.', ?) AND"), [sGone])).to.deep.equal([]);

    expect((await rows(query('ORDER BY bytes DESC')))[0]!.session_id).to.equal(sBig);

    // Lock items in the item table (a gateway with sessions.locks false wrote them) are deleted by the cleanup query.
    await db.query(`INSERT INTO \`${pair.table}\` (mkey, string_value, flags, cas_value, expiry) VALUES (?, '1', 0, 1, 0)`, [Buffer.from(`memc.sess.key.lock.${sSmall}`)]);
    await rows(query("DELETE FROM `" + pair.table + "` WHERE mkey LIKE 'memc.sess.key.lock.%'"));
    const [leftover] = await rows(`SELECT COUNT(*) AS n FROM \`${pair.table}\` WHERE mkey LIKE 'memc.sess.key.lock.%'`);
    expect(Number(leftover!.n)).to.equal(0);
    expect(await readSession(settings, sSmall), 'the session itself stays').to.deep.equal(small);

    // Ending a session from SQL is what session_destroy() does.
    await rows(query("DELETE FROM `" + pair.table + "` WHERE mkey = CONCAT('memc.sess.key.', ?)"), [sSmall]);
    expect(await readSession(settings, sSmall)).to.deep.equal({});
  });

  it('pecl memcache with session_prefix_static_key=phpsess_: sessions, compression and held locks', async () => {
    const memcache = memcacheSettings(pair.ports, { 'memcache.session_redundancy': 1, 'memcache.session_prefix_static_key': 'phpsess_' });
    const small = { user: 'erin' };
    const words = Array.from({ length: 8000 }, (_, i) => `w${(i * 7919) % 613}`).join(' ');
    const sSmall = await putSession(memcache, small);
    const sBig = await putSession(memcache, { user: 'frank', note: words });
    const sHeld = await putSession(memcache, { user: 'gina' });

    const heldSince = Math.floor(Date.now() / 1000);
    const holder = new PhpProcess(memcache, { action: 'hold', sid: sHeld, marker: 'held' });
    try {
      expect(await holder.waitForLine('LOCKED'), holder.stderr).to.equal(true);
      const sessions = await rows(`SELECT * FROM \`${pair.table}_php_memcache_sessions\` ORDER BY session_id`);
      expect(sessions.map((r) => r.session_id)).to.deep.equal([sSmall, sBig, sHeld].sort());
      const bySid = new Map(sessions.map((r) => [String(r.session_id), r]));
      expect(text(bySid.get(sSmall)!.data)).to.equal(phpSession(small));
      expect(Number(bySid.get(sSmall)!.compressed)).to.equal(0);
      expect(Number(bySid.get(sBig)!.compressed)).to.equal(1);
      expect(Number(bySid.get(sBig)!.bytes)).to.be.below(Buffer.byteLength(phpSession({ user: 'frank', note: words })));
      expect(Number(bySid.get(sSmall)!.seconds_left)).to.be.within(1380, 1440);
      // pecl memcache gives its lock memcache.lock_timeout (15 s) to live.
      await expectOneHeldLock(`${pair.table}_php_memcache_session_locks`, sHeld, heldSince, 15);
      holder.send('go');
      expectOk(await holder.done, 'holder');
    } finally {
      holder.child.kill('SIGKILL');
    }
    // Released: pecl memcache's set to "0" removed the lock row.
    expect(await rows(`SELECT * FROM \`${pair.table}_php_memcache_session_locks\``)).to.deep.equal([]);
  });
});
