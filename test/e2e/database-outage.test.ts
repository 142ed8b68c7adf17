/**
 * The database goes away and comes back: the gateway keeps its clients, answers
 * SERVER_ERROR promptly while the database is down, and serves again by itself (with the
 * data written before the outage) once it is back. Uses a PRIVATE embedded MariaDB, since
 * the shared test database must not be stopped.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { startEmbeddedMariadb, type EmbeddedMariadb } from '../../src/embedded/mariadb.js';
import { findFreePort, testLogger } from '../helpers/database.js';
import { freezeProcess } from '../helpers/freeze.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { RawConnection as Conn, parseStats } from '../helpers/raw-connection.js';



const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends one request and times its whole reply. */
async function timed(conn: Conn, request: string, timeoutMs = 10_000): Promise<{ reply: string; ms: number }> {
  const started = Date.now();
  const reply = await conn.request(request, timeoutMs);
  return { reply, ms: Date.now() - started };
}

/** What a client sees while the database is down, for every kind of command. */
const OUTAGE_REQUESTS = [
  'get before-1\r\n',
  'gets before-1 before-2\r\n',
  'set during 0 0 3\r\nabc\r\n',
  'add during 0 0 3\r\nabc\r\n',
  'replace before-1 0 0 3\r\nabc\r\n',
  'append before-1 0 0 3\r\nabc\r\n',
  'cas before-1 0 0 3 1\r\nabc\r\n',
  'incr counter 1\r\n',
  'decr counter 1\r\n',
  'touch before-1 100\r\n',
  'gat 100 before-1\r\n',
  'delete before-2\r\n',
];

const REPLY_BOUND_MS = 3000;

describe('e2e: database outage and recovery', function () {
  this.timeout(90_000);
  let dir: string;
  let port: number;
  let database: EmbeddedMariadb | undefined;
  let gateway: RunningGateway | undefined;
  let password: string;
  const conns: Conn[] = [];

  async function startDatabase(): Promise<EmbeddedMariadb> {
    return startEmbeddedMariadb({ dataDir: dir, port, database: 'memgate_outage', logger: testLogger() });
  }

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-outage-'));
    port = await findFreePort();
    database = await startDatabase();
    password = decodeURIComponent(new URL(database.url).password);
    expect(password).to.have.length.greaterThan(0);
    gateway = await startGateway({ config: { db: { url: database.url } } });
  });

  after(async () => {
    await Promise.all(conns.map((conn) => conn.close()));
    await gateway?.stop();
    await database?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers SERVER_ERROR promptly while the database is down, keeps the connection, and recovers with the data', async () => {
    const conn = await Conn.open(gateway!.port);
    conns.push(conn);

    // before the outage
    expect(await conn.request('set before-1 7 0 5\r\nfirst\r\n')).to.equal('STORED\r\n');
    expect(await conn.request('set before-2 0 0 6\r\nsecond\r\n')).to.equal('STORED\r\n');
    expect(await conn.request('set counter 0 0 2\r\n41\r\n')).to.equal('STORED\r\n');
    expect(await conn.request('incr counter 1\r\n')).to.equal('42\r\n');
    expect(await conn.request('get before-1 before-2\r\n')).to.equal('VALUE before-1 7 5\r\nfirst\r\nVALUE before-2 0 6\r\nsecond\r\nEND\r\n');
    expect(parseStats(await conn.request('stats\r\n')).get('db_up')).to.equal('1');

    await database!.stop();
    database = undefined;
    const downAt = Date.now();

    // Several rounds: right after the stop, and again while the gateway retries in the background.
    const slowest: Array<[string, number]> = [];
    for (let round = 0; round < 3; round++) {
      for (const request of OUTAGE_REQUESTS) {
        const { reply, ms } = await timed(conn, request);
        const command = request.split('\r\n')[0]!;
        expect(reply, `round ${round}: ${command}`).to.match(/^SERVER_ERROR [^\r\n]+\r\n$/);
        expect(reply, 'the reply never carries the database password').to.not.include(password);
        expect(ms, `round ${round}: ${command} answered in ${ms} ms`).to.be.at.most(REPLY_BOUND_MS);
        slowest.push([command, ms]);
      }
      // Pipelined requests all get their SERVER_ERROR, in order, on the same connection.
      await conn.send('get a\r\nset b 0 0 1\r\nx\r\nversion\r\nget c\r\n');
      const started = Date.now();
      const replies = [await conn.reply(), await conn.reply(), await conn.reply(), await conn.reply()];
      expect(replies[0]).to.match(/^SERVER_ERROR /);
      expect(replies[1]).to.match(/^SERVER_ERROR /);
      expect(replies[2]).to.match(/^VERSION 1\.6\.18-memgate-/);
      expect(replies[3]).to.match(/^SERVER_ERROR /);
      expect(Date.now() - started).to.be.at.most(3 * REPLY_BOUND_MS);
      if (round < 2) await sleep(700);
    }
    slowest.sort((x, y) => y[1] - x[1]);

    // The gateway itself stays up: commands that need no database work, stats show the outage,
    // and new clients can still connect.
    expect(await conn.request('version\r\n')).to.match(/^VERSION 1\.6\.18-memgate-/);
    expect(parseStats(await conn.request('stats\r\n')).get('db_up')).to.equal('0');
    const second = await Conn.open(gateway!.port);
    conns.push(second);
    expect((await timed(second, 'get before-1\r\n')).reply).to.match(/^SERVER_ERROR /);

    // The database comes back on the same data dir and port.
    database = await startDatabase();
    const backAt = Date.now();
    let recoveredAt: number | undefined;
    let last = '';
    for (let attempt = 0; attempt < 150 && Date.now() - backAt < 15_000; attempt++) {
      last = (await timed(conn, 'get before-1\r\n')).reply;
      if (last.startsWith('VALUE')) {
        recoveredAt = Date.now();
        break;
      }
      expect(last).to.match(/^SERVER_ERROR /);
      await sleep(100);
    }
    expect(recoveredAt, `the gateway serves again within 15 s of the database's return; last reply ${JSON.stringify(last)}`).to.not.equal(undefined);

    // same connection, data from before the outage intact, writes work again
    expect(await conn.request('get before-1 before-2\r\n')).to.equal('VALUE before-1 7 5\r\nfirst\r\nVALUE before-2 0 6\r\nsecond\r\nEND\r\n');
    expect(await conn.request('incr counter 1\r\n')).to.equal('43\r\n');
    expect(await conn.request('get during\r\n'), 'nothing from the outage was stored').to.equal('END\r\n');
    expect(await conn.request('set after 0 0 5\r\nlater\r\n')).to.equal('STORED\r\n');
    expect(await second.request('get after\r\n')).to.equal('VALUE after 0 5\r\nlater\r\nEND\r\n');
    const counted = parseStats(await conn.request('stats\r\n'));
    expect(counted.get('db_up')).to.equal('1');
    expect(Number(counted.get('db_node_0_downs')), 'the outage is counted').to.be.at.least(1);
    // stats reset zeroes the outage counters as memcached zeroes its own; db_up is a gauge.
    expect(await conn.request('stats reset\r\n')).to.equal('RESET\r\n');
    const reset = parseStats(await conn.request('stats\r\n'));
    expect(reset.get('db_node_0_downs')).to.equal('0');
    expect(reset.get('db_up')).to.equal('1');
    console.log(`      (outage ${backAt - downAt} ms; slowest reply while down: ${slowest[0]![0]} ${slowest[0]![1]} ms; ` +
      `serving again ${recoveredAt! - backAt} ms after the database was back)`);
  });

  it('answers SERVER_ERROR when the database accepts connections but never answers, then recovers', async () => {
    database ??= await startDatabase();
    const frozenGateway = await startGateway({ config: { db: { url: database.url, statementTimeoutMs: 1000 } } });
    const pid = Number((await readFile(path.join(dir, 'mariadbd.pid'), 'utf8')).trim());
    expect(pid).to.be.greaterThan(0);
    const conn = await Conn.open(frozenGateway.port);
    conns.push(conn);
    try {
      expect(await conn.request('set frozen 0 0 2\r\nok\r\n')).to.equal('STORED\r\n');
      await freezeProcess(pid);
      for (const request of ['get frozen\r\n', 'set frozen 0 0 1\r\nx\r\n', 'incr n 1\r\n']) {
        const { reply, ms } = await timed(conn, request);
        expect(reply, request).to.match(/^SERVER_ERROR [^\r\n]+\r\n$/);
        expect(ms, `${request.trim()} answered in ${ms} ms`).to.be.at.most(REPLY_BOUND_MS);
      }
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    let reply = '';
    for (const started = Date.now(); Date.now() - started < 15_000; await sleep(100)) {
      reply = (await timed(conn, 'get frozen\r\n')).reply;
      if (reply.startsWith('VALUE')) break;
    }
    expect(reply).to.equal('VALUE frozen 0 2\r\nok\r\nEND\r\n');
    await frozenGateway.stop();
  });

  it('starts while the database is down, then creates its table and serves once it is up', async () => {
    const lateDir = await mkdtemp(path.join(os.tmpdir(), 'memgate-late-'));
    const latePort = await findFreePort();
    // The embedded server reuses a password it finds in its data directory, so the gateway
    // can be given the URL before the database exists.
    const password = 'ab'.repeat(24);
    await writeFile(path.join(lateDir, 'password'), `${password}\n`, { mode: 0o600 });
    const app = await startApp(loadConfig({
      env: {},
      overrides: { listen: { port: 0 }, db: { url: `mysql://memgate:${password}@127.0.0.1:${latePort}/memgate_late` } },
    }), testLogger());
    let late: EmbeddedMariadb | undefined;
    try {
      const conn = await Conn.open(app.address().port);
      conns.push(conn);
      expect(await conn.request('get k\r\n')).to.match(/^SERVER_ERROR database unavailable/);
      late = await startEmbeddedMariadb({ dataDir: lateDir, port: latePort, database: 'memgate_late', logger: testLogger() });
      let reply = '';
      for (const started = Date.now(); Date.now() - started < 15_000; await sleep(200)) {
        reply = await conn.request('set k 0 0 1\r\nv\r\n');
        if (reply === 'STORED\r\n') break;
      }
      expect(reply, 'the gateway created its table and stored the item').to.equal('STORED\r\n');
      expect(await conn.request('get k\r\n')).to.equal('VALUE k 0 1\r\nv\r\nEND\r\n');
    } finally {
      await app.stop();
      await late?.stop();
      await rm(lateDir, { recursive: true, force: true });
    }
  });
});
