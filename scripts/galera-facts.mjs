// Measures two Galera facts the README quotes, on a 3-node cluster on loopback (the test harness):
// stale reads on another node with and without wsrep_sync_wait, and certification conflicts
// (1213) of hot-key upserts through two nodes versus one. Run after `npm run build`:
//   node scripts/galera-facts.mjs
import mysql from 'mysql2/promise';
import { startGaleraCluster } from '../dist/test/helpers/galera-cluster.js';
const cluster = await startGaleraCluster({ nodes: 3 });
try {
  const [a, b, c] = await Promise.all(cluster.nodes.map((n) => mysql.createConnection({ uri: n.url })));
  await a.query('CREATE TABLE t (k INT PRIMARY KEY, v INT) ENGINE=InnoDB');
  await a.query('INSERT INTO t VALUES (1, 0)');
  await cluster.waitForClusterSize(3);
  for (const wait of [0, 1]) {
    await c.query(`SET SESSION wsrep_sync_wait = ${wait}`);
    let stale = 0; let readMs = 0;
    for (let i = 1; i <= 300; i++) {
      await a.query('UPDATE t SET v = ? WHERE k = 1', [i + wait * 1000]);
      const t = process.hrtime.bigint();
      const [rows] = await c.query('SELECT v FROM t WHERE k = 1');
      readMs += Number(process.hrtime.bigint() - t) / 1e6;
      if (rows[0].v !== i + wait * 1000) stale++;
    }
    console.log(`wsrep_sync_wait=${wait}: ${stale} of 300 reads on node 2 right after a write on node 0 were stale; mean read ${(readMs / 300).toFixed(3)} ms`);
  }
  // Hot-key upserts through two nodes at once.
  await a.query('CREATE TABLE u (k INT PRIMARY KEY, v INT) ENGINE=InnoDB');
  let conflicts = 0; let total = 0;
  const hammer = async (conn) => { for (let i = 0; i < 600; i++) { total++; try { await conn.query('INSERT INTO u VALUES (1, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)', [i]); } catch (e) { if (e.errno === 1213) conflicts++; else throw e; } } };
  await Promise.all([hammer(a), hammer(b)]);
  console.log(`hot-key upserts through two nodes: ${conflicts} of ${total} failed with 1213`);
  let one = 0;
  const single = async () => { for (let i = 0; i < 600; i++) { try { await a.query('INSERT INTO u VALUES (1, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)', [i]); } catch (e) { if (e.errno === 1213) one++; else throw e; } } };
  const a2 = await mysql.createConnection({ uri: cluster.nodes[0].url });
  await Promise.all([single(), (async () => { for (let i = 0; i < 600; i++) { try { await a2.query('INSERT INTO u VALUES (1, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)', [i]); } catch (e) { if (e.errno === 1213) one++; else throw e; } } })()]);
  console.log(`the same through one node (two connections): ${one} of 1200 failed with 1213`);
  for (const x of [a, b, c, a2]) await x.end();
} finally {
  await cluster.stop();
}
