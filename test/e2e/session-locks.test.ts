/**
 * Session locks over the wire: a lock key (php-memcached's memc.sess.key.lock.<sid>, pecl
 * memcache's <sid>.lock) belongs to the client connection that took it. Only its holder
 * releases it, it goes when that connection closes, and it is taken over when its gateway
 * stops writing heartbeats. Every other key keeps plain memcached semantics.
 */
import { expect } from 'chai';
import { createPool, type Pool } from 'mysql2/promise';
import { startCli } from '../helpers/cli.js';
import { findFreePort, getTestDatabaseUrl } from '../helpers/database.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { RawConnection as Conn } from '../helpers/raw-connection.js';
import { sleep, waitFor } from '../helpers/wait.js';

let sidCounter = 0;
const sid = () => `s${process.pid}x${sidCounter++}`;
const lockOf = (id: string) => `memc.sess.key.lock.${id}`;
const add = (key: string, value = '1', exptime = 0, flags = 0) => `add ${key} ${flags} ${exptime} ${value.length}\r\n${value}\r\n`;
const set = (key: string, value: string, exptime = 0, flags = 0) => `set ${key} ${flags} ${exptime} ${value.length}\r\n${value}\r\n`;

/** Polls a connection's add until it stores; the ms it took. */
async function addsWithin(conn: Conn, key: string, ms: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if ((await conn.request(add(key))) === 'STORED\r\n') return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`${key} still locked after ${ms} ms`);
    await sleep(50);
  }
}

describe('session locks (raw protocol, real gateways)', function () {
  this.timeout(30000);
  let gateway: RunningGateway;
  let open: Conn[] = [];
  const connect = async (port = gateway.port) => {
    const conn = await Conn.open(port);
    open.push(conn);
    return conn;
  };

  before(async () => {
    gateway = await startGateway();
  });
  after(async () => {
    await gateway.stop();
  });
  afterEach(async () => {
    await Promise.all(open.map((conn) => conn.close()));
    open = [];
  });

  it('lets only the holding connection release a lock; the holder\'s delete does', async () => {
    const [holder, other] = [await connect(), await connect()];
    const lock = lockOf(sid());
    expect(await holder.request(add(lock))).to.equal('STORED\r\n');
    expect(await other.request(add(lock))).to.equal('NOT_STORED\r\n');
    // The late delete of a replica or redundant copy: refused, as for a key memcached lacks.
    expect(await other.request(`delete ${lock}\r\n`)).to.equal('NOT_FOUND\r\n');
    expect(await other.request(add(lock))).to.equal('NOT_STORED\r\n');
    expect(await holder.request(`get ${lock}\r\n`)).to.equal(`VALUE ${lock} 0 1\r\n1\r\nEND\r\n`);
    expect(await holder.request(`delete ${lock}\r\n`)).to.equal('DELETED\r\n');
    expect(await other.request(`get ${lock}\r\n`)).to.equal('END\r\n');
    expect(await other.request(add(lock))).to.equal('STORED\r\n');
  });

  it('frees a lock within 1 s of its connection closing, without touching the session data', async () => {
    const id = sid();
    const holder = await connect();
    expect(await holder.request(set(`memc.sess.key.${id}`, 'n|i:1;', 1440))).to.equal('STORED\r\n');
    expect(await holder.request(add(lockOf(id)))).to.equal('STORED\r\n');
    const other = await connect();
    expect(await other.request(add(lockOf(id)))).to.equal('NOT_STORED\r\n');
    await holder.close();
    expect(await addsWithin(other, lockOf(id), 1000)).to.be.below(1000);
    expect(await other.request(`get memc.sess.key.${id}\r\n`)).to.equal(`VALUE memc.sess.key.${id} 0 6\r\nn|i:1;\r\nEND\r\n`);
  });

  it('frees a lock whose add was still running when its connection closed', async () => {
    const lock = lockOf(sid());
    const holder = await connect();
    await holder.send(add(lock));
    await holder.close();
    const other = await connect();
    expect(await addsWithin(other, lock, 1000)).to.be.below(1000);
  });

  it('serves pecl memcache\'s lock: incr, add and get in one packet, released by set to 0 of the holder only', async () => {
    const id = sid();
    const lock = `${id}.lock`;
    const [first, second] = [await connect(), await connect()];
    const take = `incr ${lock} 1\r\n${add(lock, '1', 15, 768)}get ${id}\r\n`;
    await first.send(take);
    expect(await first.reply()).to.equal('NOT_FOUND\r\n');
    expect(await first.reply()).to.equal('STORED\r\n');
    expect(await first.reply()).to.equal('END\r\n');
    await second.send(take);
    // Held: incr shows 2 (not 1: not locked) and changes nothing; add is refused.
    expect(await second.reply()).to.equal('2\r\n');
    expect(await second.reply()).to.equal('NOT_STORED\r\n');
    expect(await second.reply()).to.equal('END\r\n');
    // A redundant copy's release from the other connection is answered but changes nothing.
    expect(await second.request(set(lock, '0', 15, 768))).to.equal('STORED\r\n');
    expect(await second.request(add(lock, '1', 15, 768))).to.equal('NOT_STORED\r\n');
    expect(await first.request(set(lock, '0', 15, 768))).to.equal('STORED\r\n');
    expect(await second.request(add(lock, '1', 15, 768))).to.equal('STORED\r\n');
  });

  it('skips php-memcached\'s replica copy of session data (quiet, from a connection without the lock)', async () => {
    const id = sid();
    const data = `memc.sess.key.${id}`;
    const quiet = (value: string) => set(data, value, 1440).replace('1440 6', '1440 6 noreply');
    const [holder, replica] = [await connect(), await connect()];
    const skipped = async () => Number(/STAT session_data_copies_skipped (\d+)/.exec(await replica.request('stats\r\n'))?.[1]);
    const before = await skipped();
    expect(await holder.request(add(lockOf(id)))).to.equal('STORED\r\n');
    expect(await holder.request(set(data, 'n|i:2;', 1440))).to.equal('STORED\r\n');
    await replica.send(quiet('n|i:1;'));
    expect(await replica.request(`get ${data}\r\n`)).to.equal(`VALUE ${data} 0 6\r\nn|i:2;\r\nEND\r\n`);
    // Also once the lock is free: a copy that came late must not undo a later request's write.
    expect(await holder.request(`delete ${lockOf(id)}\r\n`)).to.equal('DELETED\r\n');
    await replica.send(quiet('n|i:1;'));
    expect(await replica.request(`get ${data}\r\n`)).to.equal(`VALUE ${data} 0 6\r\nn|i:2;\r\nEND\r\n`);
    // A request's own write through a connection other than its lock's (php-memcached with
    // several servers in save_path) is written.
    expect(await replica.request(set(data, 'n|i:5;', 1440))).to.equal('STORED\r\n');
    expect(await holder.request(`get ${data}\r\n`)).to.equal(`VALUE ${data} 0 6\r\nn|i:5;\r\nEND\r\n`);
    expect(await skipped()).to.equal(before + 2);
  });

  it('skips pecl memcache\'s redundant write (data, then its lock set to 0), and leaves other sets alone', async () => {
    const id = sid();
    const [holder, redundant] = [await connect(), await connect()];
    expect(await holder.request(add(`${id}.lock`, '1', 15, 768))).to.equal('STORED\r\n');
    expect(await holder.request(set(id, 'new', 1440))).to.equal('STORED\r\n');
    await redundant.send(`${set(id, 'old', 1440)}${set(`${id}.lock`, '0', 15, 768)}`);
    expect(await redundant.reply()).to.equal('STORED\r\n');
    expect(await redundant.reply()).to.equal('STORED\r\n');
    expect(await redundant.request(`get ${id}\r\n`)).to.equal(`VALUE ${id} 0 3\r\nnew\r\nEND\r\n`);
    // A bare key with no lock request behind it is an item like any other.
    expect(await redundant.request(set(id, 'any', 1440))).to.equal('STORED\r\n');
    expect(await holder.request(`get ${id}\r\n`)).to.equal(`VALUE ${id} 0 3\r\nany\r\nEND\r\n`);
  });

  it('makes an add of a held lock wait for its release (sessions.lockWaitMs, 100 ms), then NOT_STORED', async () => {
    const lock = lockOf(sid());
    const [holder, waiter] = [await connect(), await connect()];
    expect(await holder.request(add(lock))).to.equal('STORED\r\n');
    let started = Date.now();
    expect(await waiter.request(add(lock))).to.equal('NOT_STORED\r\n');
    expect(Date.now() - started, 'ms before NOT_STORED').to.be.within(90, 1000);
    started = Date.now();
    const waiting = waiter.request(add(lock));
    await sleep(30);
    expect(await holder.request(`delete ${lock}\r\n`)).to.equal('DELETED\r\n');
    expect(await waiting).to.equal('STORED\r\n');
    expect(Date.now() - started, 'ms until the waiting add got the released lock').to.be.below(90);
  });

  it('refuses a lock value longer than the lock table holds with a SERVER_ERROR naming the limit', async () => {
    const conn = await connect();
    const lock = lockOf(sid());
    expect(await conn.request(add(lock, 'x'.repeat(256)))).to.equal('SERVER_ERROR a session lock\'s value is at most 255 bytes (sessions.lockKeys)\r\n');
    expect(await conn.request(add(lock, 'x'.repeat(255)))).to.equal('STORED\r\n');
  });

  it('takes over an expired lock', async () => {
    const lock = lockOf(sid());
    const [holder, other] = [await connect(), await connect()];
    expect(await holder.request(add(lock, '1', 1))).to.equal('STORED\r\n');
    expect(await addsWithin(other, lock, 3000)).to.be.above(0);
    expect(await holder.request(`delete ${lock}\r\n`)).to.equal('NOT_FOUND\r\n');
  });

  it('keeps memcached semantics for keys that are not locks', async () => {
    const key = `memc.sess.key.${sid()}`;
    const [a, b] = [await connect(), await connect()];
    expect(await a.request(add(key, 'x'))).to.equal('STORED\r\n');
    expect(await b.request(`delete ${key}\r\n`)).to.equal('DELETED\r\n');
  });

  describe('with sessions.locks false', () => {
    let plain: RunningGateway;
    before(async () => {
      plain = await startGateway({ config: { sessions: { locks: false } } });
    });
    after(async () => {
      await plain.stop();
    });

    it('treats lock keys as items: any connection\'s delete frees them', async () => {
      const lock = lockOf(sid());
      const [a, b] = [await connect(plain.port), await connect(plain.port)];
      expect(await a.request(add(lock))).to.equal('STORED\r\n');
      expect(await b.request(`delete ${lock}\r\n`)).to.equal('DELETED\r\n');
      await a.close();
      expect(await b.request(add(lock))).to.equal('STORED\r\n');
      expect(await b.request(add(lock))).to.equal('NOT_STORED\r\n');
    });
  });

  describe('across gateways', () => {
    let db: Pool;
    before(async () => {
      db = createPool({ uri: await getTestDatabaseUrl(), connectionLimit: 2 });
    });
    after(async () => {
      await db.end();
    });

    it('another gateway\'s connection cannot release it, and it shows in SQL with its holder', async () => {
      const second = await startGateway({ config: { db: { table: gateway.table } } });
      try {
        const lock = lockOf(sid());
        const holder = await connect();
        const other = await connect(second.port);
        expect(await holder.request(add(lock))).to.equal('STORED\r\n');
        expect(await other.request(`delete ${lock}\r\n`)).to.equal('NOT_FOUND\r\n');
        expect(await other.request(add(lock))).to.equal('NOT_STORED\r\n');
        const [rows] = await db.query(
          `SELECT g.pid, l.acquired_at <= UNIX_TIMESTAMP() AS since_known FROM \`${gateway.table}_locks\` l
           JOIN memgate_gateways g ON g.gateway_id = l.owner WHERE l.lock_key = ?`, [lock],
        );
        expect(rows).to.deep.equal([{ pid: process.pid, since_known: 1 }]);
      } finally {
        await second.stop();
      }
    });

    it('frees the locks of a gateway that stops cleanly at once, not after its liveness', async () => {
      const lock = lockOf(sid());
      const second = await startGateway({ config: { db: { table: gateway.table } } });
      const holder = await connect(second.port);
      expect(await holder.request(add(lock))).to.equal('STORED\r\n');
      const other = await connect();
      expect(await other.request(add(lock))).to.equal('NOT_STORED\r\n');
      await second.stop();
      expect(await addsWithin(other, lock, 1000)).to.be.below(1000);
    });

    it('takes over the locks of a SIGKILLed gateway within its liveness (5 s), with the data intact', async () => {
      const id = sid();
      const port = await findFreePort();
      const killed = startCli(['serve', '--db-url', await getTestDatabaseUrl(), '--table', gateway.table, '--port', String(port)], process.cwd());
      try {
        await waitFor('the gateway to listen', () => killed.output().stdout.includes('listening') || killed.output().stderr.includes('listening'), 15000);
        const holder = await connect(port);
        expect(await holder.request(set(`memc.sess.key.${id}`, 'n|i:7;', 1440))).to.equal('STORED\r\n');
        expect(await holder.request(add(lockOf(id)))).to.equal('STORED\r\n');
        const other = await connect();
        expect(await other.request(add(lockOf(id)))).to.equal('NOT_STORED\r\n');
        killed.child.kill('SIGKILL');
        await killed.exited;
        const ms = await addsWithin(other, lockOf(id), 8000);
        expect(ms, 'ms until the lock was free').to.be.within(500, 6000);
        expect(await other.request(`get memc.sess.key.${id}\r\n`)).to.equal(`VALUE memc.sess.key.${id} 0 6\r\nn|i:7;\r\nEND\r\n`);
      } finally {
        killed.child.kill('SIGKILL');
      }
    });
  });
});
