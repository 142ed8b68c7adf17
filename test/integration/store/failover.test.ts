import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { startEmbeddedMariadb, type EmbeddedMariadb } from '../../../src/embedded/mariadb.js';
import { CasAllocator } from '../../../src/store/cas-allocator.js';
import { parseDatabaseUrl } from '../../../src/store/db-url.js';
import { DatabaseUnavailableError } from '../../../src/store/errors.js';
import { MysqlKvStore } from '../../../src/store/mysql-kv-store.js';
import { createDatabasePool, type DatabasePool, type DatabasePoolOptions } from '../../../src/store/pool.js';
import { UNKNOWN_OUTCOME_MESSAGE } from '../../../src/store/retry.js';
import { applySchema } from '../../../src/store/schema.js';
import { captureLog, findFreePort, freshTableName, getTestDatabaseUrl, testLogger } from '../../helpers/database.js';
import { freezeProcess } from '../../helpers/freeze.js';
import { sleep, waitFor } from '../../helpers/wait.js';

const k = (s: string) => Buffer.from(s);
/** How long the waits below give the pool, and how often they look. */
const UNTIL_MS = 15_000;
const POLL_MS = 50;

/**
 * Two independent MariaDB servers stand in for two SQL nodes: enough to see where each command
 * goes, which the rows themselves show. (Replication between nodes is the Galera test's part.)
 */
describe('several database nodes: failover, failback and retries (real MariaDB)', function () {
  this.timeout(90_000);
  const logger = testLogger();
  let dir: string;
  let first: EmbeddedMariadb | undefined;
  let firstPort: number;
  let firstUrl: string;
  let secondUrl: string;
  const table = freshTableName('failover');
  /** what the main pool logs */
  const poolLog = captureLog();
  let pool: DatabasePool;
  let store: MysqlKvStore;

  const startFirst = async () => {
    first = await startEmbeddedMariadb({ dataDir: dir, port: firstPort, database: 'memgate_failover', logger });
    firstUrl = first.url;
  };
  /** Rows of the table on one server, read directly with SQL. */
  const rowsOn = async (url: string): Promise<Map<string, string>> => {
    const c = await mysql.createConnection({ uri: url });
    try {
      const [rows] = await c.query(`SELECT mkey, string_value FROM \`${table}\``);
      return new Map((rows as Array<{ mkey: Buffer; string_value: Buffer }>).map((r) => [r.mkey.toString(), r.string_value.toString()]));
    } finally {
      await c.end();
    }
  };
  const set = (key: string, value: string) => store.store({ mode: 'set', key: k(key), value: k(value), flags: 0, exptime: 0, cas: 0n });
  /** A pool over the two servers (or the given URLs) with short timeouts, and a store on it. */
  const twoNodes = (options: Partial<DatabasePoolOptions> = {}, urls = [firstUrl, secondUrl]) => {
    const p = createDatabasePool({
      endpoints: urls.map((url) => parseDatabaseUrl(url)),
      size: 2, acquireTimeoutMs: 3000, connectTimeoutMs: 1000, idleTimeoutMs: 10_000, statementTimeoutMs: 5000,
      ...options,
    }, logger);
    return { pool: p, store: storeOn(p) };
  };
  const storeOn = (p: DatabasePool) => new MysqlKvStore(p, new CasAllocator(p, 10), { table, itemSizeMax: 1024 * 1024 }, logger);

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-failover-'));
    firstPort = await findFreePort();
    await startFirst();
    secondUrl = await getTestDatabaseUrl();
    pool = createDatabasePool({
      endpoints: [parseDatabaseUrl(firstUrl), parseDatabaseUrl(secondUrl)],
      size: 4, acquireTimeoutMs: 3000, connectTimeoutMs: 2000, idleTimeoutMs: 10_000, statementTimeoutMs: 10_000,
    }, poolLog.logger);
    // Both nodes get the schema, as `memgate schema` run against each would.
    for (const url of [firstUrl, secondUrl]) {
      const single = createDatabasePool({
        endpoints: [parseDatabaseUrl(url)], size: 1, acquireTimeoutMs: 3000, connectTimeoutMs: 2000, idleTimeoutMs: 1000, statementTimeoutMs: 10_000,
      }, logger);
      await applySchema(single, { engine: 'innodb', table, onlyIfMissing: true }, logger);
      await single.close();
    }
    store = storeOn(pool);
  });

  after(async () => {
    await store?.flushAccesses();
    await pool?.close();
    const c = await mysql.createConnection({ uri: secondUrl });
    await c.query(`DROP TABLE IF EXISTS \`${table}\``);
    await c.end();
    await first?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes to the first node while it is healthy, moves to the next when it dies, and back when it returns', async () => {
    expect((await set('before', 'one')).outcome).to.equal('stored');
    expect((await rowsOn(firstUrl)).get('before')).to.equal('one');
    expect((await rowsOn(secondUrl)).has('before')).to.equal(false);
    expect(pool.health()).to.include({ writer: 0, failovers: 0 });

    await first!.stop();
    first = undefined;
    // The first command after the stop finds the node gone and runs again on the next one.
    expect((await set('during', 'two')).outcome).to.equal('stored');
    expect((await rowsOn(secondUrl)).get('during')).to.equal('two');
    const health = pool.health();
    expect(health.writer).to.equal(1);
    expect(health.failovers).to.equal(1);
    expect(health.nodes.map((n) => n.up)).to.deep.equal([false, true]);
    expect(health.nodes[0]!.downs).to.equal(1);
    expect((await store.get([k('during')])).get('during')?.value.toString()).to.equal('two');

    await startFirst();
    // A probe with backoff finds the node healthy again; writes move back to it.
    await waitFor('the first node to be taken back', () => pool.health().nodes[0]!.up, UNTIL_MS, POLL_MS);
    expect((await set('after', 'three')).outcome).to.equal('stored');
    expect((await rowsOn(firstUrl)).get('after')).to.equal('three');
    expect(pool.health()).to.include({ writer: 0, failovers: 2 });
    expect(pool.health().failoversByCause).to.deep.equal({ connection: 1, timeout: 0, not_ready: 0, failback: 1 });
    // The same story in the log, one JSON line per event.
    const events = poolLog.text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((e) => /^database (node|writer)/.test(String(e.message)));
    // The log names a node as the gateway reaches it: the embedded server's socket, else host:port.
    const firstAddress = new URL(firstUrl).searchParams.get('socketPath') ?? `127.0.0.1:${firstPort}`;
    expect(events.map((e) => [e.message, e.level])).to.deep.equal([
      ['database node down', 'warn'], ['database writer moved', 'warn'], ['database node up', 'info'], ['database writer moved', 'warn'],
    ]);
    expect(events[0]).to.include({ node: 0, address: firstAddress });
    expect(String(events[0]!.error)).to.match(/ECONNREFUSED|ENOENT|PROTOCOL_CONNECTION_LOST|ECONNRESET/);
    expect(events[1]).to.include({ from: 0, to: 1 });
    expect(events[2]).to.include({ node: 0, address: firstAddress });
    expect(events[2]!.downMs).to.be.a('number');
    expect(events[3]).to.include({ from: 1, to: 0, address: firstAddress });
  });

  it('a frozen writer: a get that gets no answer is run again on the next node, and the node is taken back once it thaws', async () => {
    const { pool: frozenPool, store: frozenStore } = twoNodes({ statementTimeoutMs: 1000 });
    const pid = Number((await readFile(path.join(dir, 'mariadbd.pid'), 'utf8')).trim());
    try {
      expect((await frozenStore.store({ mode: 'set', key: k('frozen'), value: k('on-first'), flags: 0, exptime: 0, cas: 0n })).outcome).to.equal('stored');
      await freezeProcess(pid);
      // Only the second node has no such row: the answer shows where the retry ran.
      const started = Date.now();
      const items = await frozenStore.get([k('frozen')]);
      expect(items.size, 'answered by the second node').to.equal(0);
      expect(Date.now() - started).to.be.below(5000);
      expect(frozenPool.health()).to.include({ writer: 1 });
      expect(frozenPool.health().nodes[0]).to.include({ up: false, downs: 1 });
      process.kill(pid, 'SIGCONT');
      await waitFor('the thawed node to be taken back', () => frozenPool.health().nodes[0]!.up, UNTIL_MS, POLL_MS);
      expect((await frozenStore.get([k('frozen')])).get('frozen')?.value.toString()).to.equal('on-first');
      expect(frozenPool.health().writer).to.equal(0);
    } finally {
      process.kill(pid, 'SIGCONT');
      await frozenStore.flushAccesses();
      await frozenPool.close();
    }
  });

  it('db.reads: gets go to the writer by default, and rotate over the healthy nodes with spread', async () => {
    // A row on the first node only: whether a get finds it shows which node answered.
    const c = await mysql.createConnection({ uri: firstUrl });
    await c.query(`INSERT INTO \`${table}\` (mkey, string_value, flags, cas_value, expiry) VALUES ('only-first', 'x', 0, 1, 0)`);
    await c.end();
    const hits = async (reads: 'writer' | 'spread') => {
      const { pool: p, store: s } = twoNodes({ reads });
      try {
        let found = 0;
        for (let i = 0; i < 6; i++) found += (await s.get([k('only-first')])).size;
        return found;
      } finally {
        await s.flushAccesses();
        await p.close();
      }
    };
    expect(await hits('writer')).to.equal(6);
    expect(await hits('spread')).to.equal(3);
  });

  it('a read-only writer (1290): writes go on through the next node, and a node that keeps failing is probed less and less often', async function () {
    // SET GLOBAL needs root, which the embedded server grants over its socket to the OS root.
    if (process.getuid?.() !== 0) this.skip();
    const asRoot = (statement: string) => execFileSync('mariadb', ['--no-defaults', `--socket=${path.join(dir, 'mariadbd.sock')}`, '-uroot', '-e', statement]);
    const downsBefore = pool.health().nodes[0]!.downs;
    asRoot('SET GLOBAL read_only = 1');
    try {
      // The probe only connects, so the node is taken back and fails again on the next write.
      const until = Date.now() + 3000;
      let writes = 0;
      while (Date.now() < until) {
        expect((await set(`ro-${writes}`, 'v')).outcome, `write ${writes}`).to.equal('stored');
        writes++;
        await sleep(20);
      }
      const onSecond = await rowsOn(secondUrl);
      expect(onSecond.has('ro-0') && onSecond.has(`ro-${writes - 1}`), 'writes went to the second node').to.equal(true);
      const flaps = pool.health().nodes[0]!.downs - downsBefore;
      expect(flaps, 'taken out of service at least once').to.be.at.least(1);
      expect(pool.health().failoversByCause.not_ready, 'writes left the read-only node as not ready').to.be.at.least(1);
      // Backoff doubling from 100 ms gives about 5 in 3 s; a fixed 100 ms would give about 25.
      expect(flaps, 'times the read-only node was taken out in 3 s').to.be.at.most(8);
    } finally {
      asRoot('SET GLOBAL read_only = 0');
    }
    await waitFor('writes to move back to the first node', async () => (await set('ro-after', 'back')).outcome === 'stored'
      && (await rowsOn(firstUrl)).get('ro-after') === 'back', UNTIL_MS, POLL_MS);
  });

  it('answers at once, naming each node, while every node is down', async () => {
    const { pool: dead, store: deadStore } = twoNodes({ connectTimeoutMs: 1000, acquireTimeoutMs: 2000 }, [
      `mysql://u:p@127.0.0.1:${await findFreePort()}/x`,
      `mysql://u:p@127.0.0.1:${await findFreePort()}/x`,
    ]);
    try {
      const error = await deadStore.get([k('x')]).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(DatabaseUnavailableError);
      expect(dead.down).to.equal(true);
      const started = Date.now();
      const again = await deadStore.get([k('x')]).then(() => null, (e: unknown) => e);
      expect(again).to.be.instanceOf(DatabaseUnavailableError);
      expect(Date.now() - started, 'no connect attempt while every node is marked down').to.be.below(500);
      expect((again as Error).message).to.match(/127\.0\.0\.1:\d+: .*ECONNREFUSED.*; 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    } finally {
      await dead.close();
    }
  });

  describe('a connection killed while its command waits on a row lock', () => {
    let holder: mysql.Connection;
    let killer: mysql.Connection;

    before(async () => {
      holder = await mysql.createConnection({ uri: firstUrl });
      killer = await mysql.createConnection({ uri: firstUrl });
    });
    after(async () => {
      await holder?.end();
      await killer?.end();
    });

    /** Holds the row's lock, starts the command, kills its connection once it waits, then lets go. */
    async function killWhileWaiting<T>(key: string, statementStart: string, command: () => Promise<T>): Promise<{ result?: T; error?: unknown }> {
      await holder.query('START TRANSACTION');
      await holder.query(`SELECT * FROM \`${table}\` WHERE mkey = ? FOR UPDATE`, [key]);
      const running = command().then((result) => ({ result }), (error: unknown) => ({ error }));
      let id: number | undefined;
      await waitFor('the command to wait on the lock', async () => {
        const [rows] = await killer.query(
          "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()", [`${statementStart}%`],
        );
        id = (rows as Array<{ ID: number }>)[0]?.ID;
        return id !== undefined;
      }, UNTIL_MS, POLL_MS);
      await killer.query(`KILL CONNECTION ${id}`);
      // Let a retry (if any) start before the lock goes, then release it.
      await sleep(200);
      await holder.query('ROLLBACK');
      return running;
    }

    it('a write blocked on a row lock past the server\'s lock wait limit is rolled back by the server and retried; the node stays in service', async () => {
      // statementTimeoutMs 2000 gives the sessions a 1 s innodb_lock_wait_timeout.
      const { pool: short, store: shortStore } = twoNodes({ statementTimeoutMs: 2000 });
      try {
        await set('k-lock', 'old');
        await holder.query('START TRANSACTION');
        await holder.query(`SELECT * FROM \`${table}\` WHERE mkey = 'k-lock' FOR UPDATE`);
        const writing = shortStore.store({ mode: 'set', key: k('k-lock'), value: k('new'), flags: 0, exptime: 0, cas: 0n });
        await sleep(1500);
        await holder.query('ROLLBACK');
        expect((await writing).outcome).to.equal('stored');
        expect(short.counters.retries, 'the lock wait timeout (1205) was retried').to.be.at.least(1);
        expect(short.health().nodes[0]).to.include({ up: true, downs: 0 });
        expect((await rowsOn(firstUrl)).get('k-lock')).to.equal('new');
      } finally {
        await shortStore.flushAccesses();
        await short.close();
      }
    });

    it('set: its outcome is unknown but running it again is harmless, so it is retried and stored', async () => {
      await set('k-set', 'old');
      const retries = pool.counters.retries;
      const { result, error } = await killWhileWaiting('k-set', `INSERT INTO \`${table}\``, () => set('k-set', 'new'));
      expect(error).to.equal(undefined);
      expect(result!.outcome).to.equal('stored');
      expect(pool.counters.retries).to.be.greaterThan(retries);
      expect((await rowsOn(firstUrl)).get('k-set')).to.equal('new');
    });

    it('append: its outcome is unknown and running it again could append twice, so it answers "outcome unknown"', async () => {
      await set('k-append', 'abc');
      const unknown = pool.counters.unknownOutcomes;
      const { error } = await killWhileWaiting('k-append', `UPDATE \`${table}\``, () => store.store({
        mode: 'append', key: k('k-append'), value: k('def'), flags: 0, exptime: 0, cas: 0n,
      }));
      expect(error).to.be.instanceOf(DatabaseUnavailableError);
      expect((error as Error).message).to.equal(UNKNOWN_OUTCOME_MESSAGE);
      expect(pool.counters.unknownOutcomes).to.equal(unknown + 1);
      // Killed while waiting, it never ran: the value shows it was not run a second time either.
      expect((await rowsOn(firstUrl)).get('k-append')).to.equal('abc');
    });

    it('incr: killed inside its transaction before COMMIT, it certainly did not run, so it is retried and counts once', async () => {
      await set('k-incr', '10');
      const { result, error } = await killWhileWaiting('k-incr', 'SELECT mkey, string_value', () => store.arithmetic({
        key: k('k-incr'), incr: true, delta: 5n,
      }));
      expect(error).to.equal(undefined);
      expect(result).to.include({ outcome: 'ok', value: 15n });
      expect((await rowsOn(firstUrl)).get('k-incr')).to.equal('15');
    });
  });
});
