/**
 * The admin listener over real HTTP: /metrics carries every metric family and they move with
 * real traffic; /readyz follows the database (a PRIVATE embedded MariaDB, stopped and started
 * again) while /healthz stays 200; other paths get 404.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { startEmbeddedMariadb, type EmbeddedMariadb } from '../../src/embedded/mariadb.js';
import { lockTableOf } from '../../src/store/schema.js';
import { httpGet, metricFamilies, parseMetrics } from '../helpers/admin-http.js';
import { findFreePort, getTestDatabaseUrl, testLogger } from '../helpers/database.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { RawConnection as Conn } from '../helpers/raw-connection.js';
import { sleep, waitFor } from '../helpers/wait.js';

const FAMILIES: Array<[string, string]> = [
  ['memgate_commands_total', 'counter'],
  ['memgate_command_duration_seconds', 'histogram'],
  ['memgate_db_statement_duration_seconds', 'histogram'],
  ['memgate_db_node_up', 'gauge'],
  ['memgate_db_node_downs_total', 'counter'],
  ['memgate_db_pool_connections', 'gauge'],
  ['memgate_db_failovers_total', 'counter'],
  ['memgate_db_retries_total', 'counter'],
  ['memgate_client_connections', 'gauge'],
  ['memgate_client_connections_accepted_total', 'counter'],
  ['memgate_client_connections_refused_total', 'counter'],
  ['memgate_items_stored_total', 'counter'],
  ['memgate_coalesce_read_batches_total', 'counter'],
  ['memgate_coalesce_read_keys_total', 'counter'],
  ['memgate_coalesce_write_batches_total', 'counter'],
  ['memgate_coalesce_write_sets_total', 'counter'],
  ['memgate_sweeper_passes_total', 'counter'],
  ['memgate_sweeper_rows_deleted_total', 'counter'],
  ['memgate_sweeper_last_pass_timestamp_seconds', 'gauge'],
  ['memgate_session_lock_events_total', 'counter'],
  ['memgate_session_locks_held', 'gauge'],
  ['process_cpu_seconds_total', 'counter'],
  ['process_resident_memory_bytes', 'gauge'],
  ['nodejs_eventloop_lag_seconds', 'gauge'],
];

async function scrape(port: number): Promise<Map<string, number>> {
  const reply = await httpGet(port, '/metrics');
  expect(reply.status).to.equal(200);
  return parseMetrics(reply.body);
}

describe('e2e: admin listener (/metrics, /healthz, /readyz)', function () {
  this.timeout(120_000);

  describe('with the shared test database', () => {
    let gateway: RunningGateway;
    let adminPort: number;

    before(async () => {
      adminPort = await findFreePort();
      gateway = await startGateway({ config: { admin: { port: adminPort }, sweeper: { interval: 1 }, listen: { maxConnections: 3 } } });
    });
    after(() => gateway?.stop());

    it('serves every metric family in the Prometheus text format', async () => {
      const reply = await httpGet(adminPort, '/metrics');
      expect(reply.status).to.equal(200);
      expect(reply.contentType).to.match(/^text\/plain; version=0\.0\.4/);
      const families = metricFamilies(reply.body);
      for (const [name, type] of FAMILIES) expect(families.get(name), name).to.equal(type);
      // never a key in a label: every label value comes from a short fixed list or db.url
      expect(reply.body).not.to.match(/key=/);
    });

    it('moves the families with real traffic', async () => {
      const before = await scrape(adminPort);
      const conn = await Conn.open(gateway.port);
      try {
        expect(await conn.request('set obs-a 0 0 1\r\nx\r\n')).to.equal('STORED\r\n');
        expect(await conn.request('add obs-a 0 0 1\r\ny\r\n')).to.equal('NOT_STORED\r\n');
        expect(await conn.request('get obs-a obs-missing\r\n')).to.equal('VALUE obs-a 0 1\r\nx\r\nEND\r\n');
        expect(await conn.request('delete obs-missing\r\n')).to.equal('NOT_FOUND\r\n');
        expect(await conn.request('incr obs-a 1\r\n')).to.match(/^CLIENT_ERROR/);
        // a session lock (php-memcached's key), held while the connection lives
        expect(await conn.request('add memc.sess.key.lock.obs1 0 0 1\r\n1\r\n')).to.equal('STORED\r\n');
        const during = await scrape(adminPort);
        const moved = (name: string) => (during.get(name) ?? 0) - (before.get(name) ?? 0);
        expect(moved('memgate_commands_total{command="set",outcome="stored"}')).to.equal(1);
        expect(moved('memgate_commands_total{command="add",outcome="not_stored"}')).to.equal(1);
        expect(moved('memgate_commands_total{command="get",outcome="hit"}')).to.equal(1);
        expect(moved('memgate_commands_total{command="get",outcome="miss"}')).to.equal(1);
        expect(moved('memgate_commands_total{command="delete",outcome="not_found"}')).to.equal(1);
        expect(moved('memgate_commands_total{command="incr",outcome="non_numeric"}')).to.equal(1);
        expect(moved('memgate_command_duration_seconds_count{command="get"}')).to.equal(1);
        expect(moved('memgate_command_duration_seconds_sum{command="set"}')).to.be.greaterThan(0);
        expect(moved('memgate_db_statement_duration_seconds_count')).to.be.greaterThan(0);
        expect(moved('memgate_items_stored_total')).to.equal(2);
        expect(moved('memgate_client_connections_accepted_total')).to.equal(1);
        expect(during.get('memgate_client_connections')).to.equal(1);
        expect(during.get('memgate_session_locks_held')).to.equal(1);
        expect(moved('memgate_session_lock_events_total{event="taken"}')).to.equal(1);
        expect(moved('memgate_coalesce_read_batches_total') + moved('memgate_coalesce_write_batches_total')).to.be.greaterThan(0);
        expect([...during.keys()].filter((name) => name.startsWith('memgate_db_node_up{'))).to.have.length(1);
        expect([...during].find(([name]) => name.startsWith('memgate_db_node_up{'))![1]).to.equal(1);
      } finally {
        await conn.close();
      }
      await waitFor('the closed connection and its lock to leave the gauges', async () => {
        const after = await scrape(adminPort);
        return after.get('memgate_client_connections') === 0 && after.get('memgate_session_locks_held') === 0 &&
          after.get('memgate_session_lock_events_total{event="released_on_close"}')! > (before.get('memgate_session_lock_events_total{event="released_on_close"}') ?? 0);
      }, 5000, 200);
    });

    it('times a command from its parse: a get pipelined behind a waiting lock add counts the wait', async () => {
      const holder = await Conn.open(gateway.port);
      const waiter = await Conn.open(gateway.port);
      try {
        expect(await holder.request('add memc.sess.key.lock.obs-wait 0 0 1\r\n1\r\n')).to.equal('STORED\r\n');
        const before = await scrape(adminPort);
        // The add waits sessions.lockWaitMs (100 ms) for the held lock; the get queues behind it.
        await waiter.send('add memc.sess.key.lock.obs-wait 0 0 1\r\n1\r\nget obs-wait-data\r\nversion\r\n');
        const replies = await waiter.readUntilVersion();
        expect(replies.data.toString('latin1')).to.equal('NOT_STORED\r\nEND\r\n');
        const after = await scrape(adminPort);
        const moved = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
        expect(moved('memgate_command_duration_seconds_count{command="get"}')).to.equal(1);
        expect(moved('memgate_command_duration_seconds_bucket{command="get",le="0.05"}'), 'the get took over 50 ms, parse to reply').to.equal(0);
        expect(moved('memgate_command_duration_seconds_sum{command="get"}')).to.be.at.least(0.09);
      } finally {
        await holder.close();
        await waiter.close();
      }
    });

    it('counts refused connections and sweeper passes', async () => {
      const before = await scrape(adminPort);
      const conns = await Promise.all([1, 2, 3, 4].map(() => Conn.open(gateway.port)));
      try {
        await waitFor('a refused connection to be counted', async () => {
          const now = await scrape(adminPort);
          return (now.get('memgate_client_connections_refused_total') ?? 0) > (before.get('memgate_client_connections_refused_total') ?? 0);
        }, 5000, 200);
      } finally {
        await Promise.all(conns.map((conn) => conn.close()));
      }
      await waitFor('a sweeper pass', async () => (await scrape(adminPort)).get('memgate_sweeper_passes_total')! >= 1, 10_000, 200);
      expect((await scrape(adminPort)).get('memgate_sweeper_last_pass_timestamp_seconds')).to.be.closeTo(Date.now() / 1000, 30);
    });

    it('/readyz answers 503 while the item table or the lock table is missing', async () => {
      const db = await mysql.createConnection(await getTestDatabaseUrl());
      try {
        for (const table of [gateway.table, lockTableOf(gateway.table)]) {
          await db.query(`RENAME TABLE \`${table}\` TO \`${table}_away\``);
          try {
            await sleep(1100); // the last probe's answer is reused for a second
            const reply = await httpGet(adminPort, '/readyz');
            expect(reply.status, table).to.equal(503);
            expect((JSON.parse(reply.body) as { reason: string }).reason).to.include(`${table}' doesn't exist`);
          } finally {
            await db.query(`RENAME TABLE \`${table}_away\` TO \`${table}\``);
          }
          await waitFor('/readyz to answer 200 with the table back', async () => (await httpGet(adminPort, '/readyz')).status === 200, 5000, 200);
        }
      } finally {
        await db.end();
      }
    });

    it('answers 404 for other paths and 405 for other methods', async () => {
      for (const bad of ['/', '/metric', '/metrics/x', '/readyz2', '/../etc/passwd', '/HEALTHZ']) {
        const reply = await httpGet(adminPort, bad);
        expect(reply.status, bad).to.equal(404);
      }
      expect((await httpGet(adminPort, '/metrics', 'POST')).status).to.equal(405);
      expect((await httpGet(adminPort, '/readyz', 'DELETE')).status).to.equal(405);
      const head = await httpGet(adminPort, '/healthz', 'HEAD');
      expect(head).to.include({ status: 200, body: '' });
      // a query string does not change the path
      expect((await httpGet(adminPort, '/healthz?verbose=1')).status).to.equal(200);
    });
  });

  it('refuses to start on an admin port in use, naming --admin-port', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const error = await startGateway({ config: { admin: { port } } }).then(
        async (gateway) => {
          await gateway.stop();
          return null;
        },
        (failure: unknown) => failure as Error,
      );
      expect(error?.message).to.equal(`admin listener: 127.0.0.1:${port} is in use; choose another with --admin-port ` +
        '[admin.port, MEMGATE_ADMIN_PORT; admin.host, MEMGATE_ADMIN_HOST]');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  describe('with a database that goes away and comes back', () => {
    let dir: string;
    let dbPort: number;
    let database: EmbeddedMariadb | undefined;
    let gateway: RunningGateway | undefined;
    let adminPort: number;

    const startDatabase = () => startEmbeddedMariadb({ dataDir: dir, port: dbPort, database: 'memgate_readyz', logger: testLogger() });

    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-readyz-'));
      dbPort = await findFreePort();
      database = await startDatabase();
      adminPort = await findFreePort();
      gateway = await startGateway({ config: { db: { url: database.url }, admin: { port: adminPort } } });
    });

    after(async () => {
      await gateway?.stop();
      await database?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('/readyz goes 200 → 503 (with a reason) → 200; /healthz stays 200', async () => {
      const ready = await httpGet(adminPort, '/readyz');
      expect(ready.status).to.equal(200);
      expect(JSON.parse(ready.body)).to.deep.equal({ status: 'ready' });
      expect((await httpGet(adminPort, '/healthz')).status).to.equal(200);

      await database!.stop();
      database = undefined;
      const stoppedAt = Date.now();
      let notReady = await httpGet(adminPort, '/readyz');
      while (notReady.status === 200 && Date.now() - stoppedAt < 10_000) {
        expect((await httpGet(adminPort, '/healthz')).status).to.equal(200);
        await new Promise((resolve) => setTimeout(resolve, 200));
        notReady = await httpGet(adminPort, '/readyz');
      }
      expect(notReady.status, 'still ready 10 s after the database stopped').to.equal(503);
      expect(Date.now() - stoppedAt).to.be.lessThan(5000);
      const body = JSON.parse(notReady.body) as { status: string; reason: string };
      expect(body.status).to.equal('not ready');
      expect(body.reason).to.be.a('string').and.not.equal('');
      expect((await httpGet(adminPort, '/healthz')).status).to.equal(200);
      const down = parseMetrics((await httpGet(adminPort, '/metrics')).body);
      expect([...down].find(([name]) => name.startsWith('memgate_db_node_up{'))![1]).to.equal(0);

      database = await startDatabase();
      const restartedAt = Date.now();
      await waitFor('/readyz to answer 200 after the database restarted', async () => (await httpGet(adminPort, '/readyz')).status === 200, 15_000, 200);
      expect(Date.now() - restartedAt).to.be.lessThan(10_000);
      expect((await httpGet(adminPort, '/healthz')).status).to.equal(200);
    });
  });
});
