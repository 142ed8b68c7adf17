import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { selectItemsSql } from '../../../src/store/sql/read-items.js';
import { schemaStatements } from '../../../src/store/schema.js';
import { freshTableName, getTestDatabaseUrl } from '../../helpers/database.js';
import { seedRows } from '../../../bench/seed.js';

/**
 * A merged read names its keys; only the primary key should ever serve it. The liveness test
 * (expiry = 0 OR expiry > now) makes expiry_idx a candidate too, and where the optimizer
 * estimates it from statistics (no index dives) it can believe that index cheaper: then every
 * never-expiring row of the table is read to answer a few keys.
 */
describe('merged reads use the primary key (real MariaDB)', function () {
  this.timeout(60_000);
  let connection: mysql.Connection;
  const table = freshTableName('plan');
  const quoted = `\`${table}\``;

  before(async () => {
    connection = await mysql.createConnection({ uri: await getTestDatabaseUrl() });
    for (const statement of await schemaStatements('innodb', table)) await connection.query(statement);
    const sql = (text: string, params?: unknown[]) => connection.query(text, params);
    // Half the rows never expire, half have expired (each at its own second) and wait for the sweeper.
    await seedRows(sql, table, { prefix: 'live:', count: 20_000, expirySql: '0', valueBytes: 10 });
    await seedRows(sql, table, { prefix: 'gone:', count: 20_000, expirySql: 'UNIX_TIMESTAMP() - 100 - n', valueBytes: 10 });
    await connection.query(`ANALYZE TABLE ${quoted}`);
    // What makes statistics, rather than dives, estimate `expiry = 0`: a server tuned that way.
    await connection.query("SET SESSION optimizer_switch = 'extended_keys=off'");
    await connection.query('SET SESSION eq_range_index_dive_limit = 1');
  });

  after(async () => {
    await connection?.query(`DROP TABLE IF EXISTS ${quoted}`);
    await connection?.end();
  });

  for (const n of [4, 64]) {
    it(`reads ${n} keys through the primary key`, async () => {
      const keys = Array.from({ length: n }, (_, i) => `live:${i * 97}`);
      const [plan] = await connection.query(`EXPLAIN ${selectItemsSql(table, n)}`, keys);
      const rows = plan as Array<{ key: string | null; rows: number | string }>;
      expect(rows).to.have.length(1);
      expect(rows[0]!.key).to.equal('PRIMARY');
      const [found] = await connection.execute(selectItemsSql(table, n), keys);
      expect(found).to.have.length(n);
    });
  }
});
