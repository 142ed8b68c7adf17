/**
 * The Galera test harness against the real behaviour memgate's multi-node
 * support relies on: replication with wsrep_sync_wait, a surviving majority
 * after kill -9, catching up by IST, 1213 on a certification conflict and 1047
 * on a node outside the primary component.
 *
 * The cases share one cluster (starting one takes ~10 s) and run in order:
 * each leaves all three nodes Synced for the next.
 */
import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { galeraMissing, startGaleraCluster, type GaleraCluster } from '../../helpers/galera-cluster.js';
import { testLogger } from '../../helpers/database.js';

const ER_LOCK_DEADLOCK = 1213;
const ER_UNKNOWN_COM_ERROR = 1047; // "WSREP has not yet prepared node for application use"

interface Row {
  id: number;
  v: number;
}

async function rejection(promise: Promise<unknown>): Promise<{ errno?: number; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { errno?: number; message: string };
  }
  throw new Error('expected the statement to fail');
}

describe('galera test cluster (3 nodes on 127.0.0.1)', function () {
  this.timeout(60_000);
  let cluster: GaleraCluster | undefined;
  const connections: mysql.Connection[] = [];

  async function connect(index: number): Promise<mysql.Connection> {
    const connection = await mysql.createConnection({ uri: cluster!.nodes[index]!.url, connectTimeout: 5_000 });
    connections.push(connection);
    return connection;
  }

  before(async function () {
    const missing = galeraMissing();
    if (missing) {
      if (process.env.CI === 'true') throw new Error(`Galera is required in CI: ${missing} (see .ci/run)`);
      // mocha's skip() takes no reason, so say it once here.
      console.warn(`      galera tests skipped: ${missing} (apt-get install mariadb-server galera-4 rsync)`);
      this.skip();
    }
    this.timeout(120_000);
    cluster = await startGaleraCluster({ logger: testLogger() });
    await cluster.sql(0, 'CREATE TABLE kv (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB');
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.all(connections.map((c) => c.end().catch(() => c.destroy())));
    await cluster?.stop();
  });

  it('starts three Synced nodes of one primary component', async () => {
    for (const node of cluster!.nodes) {
      expect(await cluster!.status(node.index)).to.deep.equal({ clusterSize: 3, localState: 4, clusterStatus: 'Primary', ready: true });
    }
  });

  it('a row written on node 0 is read on node 2 at once with wsrep_sync_wait=1', async () => {
    const writer = await connect(0);
    const reader = await connect(2);
    await reader.query('SET SESSION wsrep_sync_wait = 1');
    for (let id = 1; id <= 50; id += 1) {
      await writer.query('INSERT INTO kv (id, v) VALUES (?, ?)', [id, id * 10]);
      const [rows] = await reader.query('SELECT id, v FROM kv WHERE id = ?', [id]);
      expect(rows).to.deep.equal([{ id, v: id * 10 }]);
    }
  });

  it('concurrent updates of one row through two nodes: the second commit fails with 1213', async () => {
    await cluster!.sql(0, 'INSERT INTO kv (id, v) VALUES (1000, 0)');
    const a = await connect(1);
    const b = await connect(2);
    await b.query('SET SESSION wsrep_sync_wait = 1');
    // b must see the row before it locks it, or its UPDATE would match nothing and not conflict.
    await b.query('SELECT v FROM kv WHERE id = 1000');
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query('UPDATE kv SET v = v + 1 WHERE id = 1000');
    await b.query('UPDATE kv SET v = v + 100 WHERE id = 1000');
    await a.query('COMMIT');
    // a's write set, applied on node 2, aborts b's local transaction: certification failure / BF abort.
    const err = await rejection(b.query('COMMIT'));
    expect(err.errno, err.message).to.equal(ER_LOCK_DEADLOCK);
    // Rolled back entirely, which is why memgate may retry any command after 1213.
    const [rows] = await b.query('SELECT v FROM kv WHERE id = 1000');
    expect(rows).to.deep.equal([{ v: 1 }]);
  });

  it('after kill -9 of node 0, nodes 1 and 2 go on as a cluster of 2 and accept writes', async function () {
    this.timeout(60_000);
    await cluster!.kill(0);
    expect(cluster!.isRunning(0)).to.equal(false);
    const refused = await rejection(mysql.createConnection({ uri: cluster!.nodes[0]!.url, connectTimeout: 2_000 }));
    expect(refused.message).to.match(/ECONNREFUSED/);
    await cluster!.waitForClusterSize(2, { nodes: [1, 2], timeoutMs: 30_000 });
    await cluster!.sql(1, 'INSERT INTO kv (id, v) VALUES (2001, 1)');
    await cluster!.sql(2, 'INSERT INTO kv (id, v) VALUES (2002, 2)');
    const rows = await cluster!.sql<Row[]>(1, 'SELECT id, v FROM kv WHERE id > 2000 ORDER BY id');
    expect(rows).to.deep.equal([{ id: 2001, v: 1 }, { id: 2002, v: 2 }]);
  });

  it('restart(0) catches node 0 up by IST: the writes made while it was down are there', async function () {
    this.timeout(90_000);
    const { transfer } = await cluster!.restart(0);
    expect(transfer).to.equal('IST');
    await cluster!.waitForClusterSize(3, { timeoutMs: 30_000 });
    const rows = await cluster!.sql<Row[]>(0, 'SELECT id, v FROM kv WHERE id > 2000 ORDER BY id');
    expect(rows).to.deep.equal([{ id: 2001, v: 1 }, { id: 2002, v: 2 }]);
  });

  it('a node cut off from the primary component answers 1047, and serves again once it is back', async function () {
    this.timeout(90_000);
    const isolated = await connect(2);
    // Drops all of node 2's group connections: a network partition, without killing anything.
    await isolated.query("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'");
    await cluster!.waitForClusterSize(2, { nodes: [0, 1], timeoutMs: 30_000 });
    // Node 2 notices on its own schedule, possibly after the others have evicted it.
    await cluster!.waitForStatus(2, 'non-Primary and not ready', (s) => s.clusterStatus === 'non-Primary' && !s.ready, { timeoutMs: 30_000 });
    const err = await rejection(isolated.query('SELECT v FROM kv WHERE id = 1'));
    expect(err.errno, err.message).to.equal(ER_UNKNOWN_COM_ERROR);

    await isolated.query("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'");
    await cluster!.waitForClusterSize(3, { timeoutMs: 30_000 });
    const [rows] = await isolated.query('SELECT v FROM kv WHERE id = 1');
    expect(rows).to.deep.equal([{ v: 10 }]);
  });
});
