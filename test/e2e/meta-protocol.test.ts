/**
 * Meta protocol behaviour the differential test cannot pin down against memcached: answers
 * that depend on seconds passing (t, l, me), and an item table made by an older memgate.
 */
import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { freshTableName, getTestDatabaseUrl } from '../helpers/database.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { RawConnection as Conn } from '../helpers/raw-connection.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A number flag of a meta reply line (t, l, ...) */
function flag(reply: string, letter: string): number {
  const token = reply.slice(0, reply.indexOf('\r\n')).split(' ').find((t) => t.startsWith(letter));
  expect(token, `${letter} in ${JSON.stringify(reply)}`).to.not.equal(undefined);
  return Number(token!.slice(1));
}

describe('e2e: meta protocol, clocks and upgrades', function () {
  this.timeout(60_000);

  describe('answers that depend on time passing', () => {
    let gateway: RunningGateway;
    let conn: Conn;

    before(async () => {
      gateway = await startGateway();
      conn = await Conn.open(gateway.port);
    });

    after(async () => {
      await conn?.close();
      await gateway?.stop();
    });

    it('t, l and me count seconds on the database clock; the second read resets the access time', async () => {
      expect(await conn.request('ms timed 1 T100\r\nx\r\n')).to.equal('HD\r\n');
      // (a second may tick between two commands)
      expect(await conn.request('mg timed h l t\r\n')).to.match(/^HD h0 l[01] t(100|99)\r\n$/);
      expect(await conn.request('me timed\r\n')).to.match(/^ME timed exp=-(100|99) la=[01] cas=\d+ fetch=yes cls=1 size=65\r\n$/);
      await sleep(2100);
      // the first read only marked the item fetched; this second read stamps the access
      const later = await conn.request('mg timed h l t\r\n');
      expect(flag(later, 'h')).to.equal(1);
      expect(flag(later, 'l')).to.be.within(2, 3);
      expect(flag(later, 't')).to.be.within(97, 98);
      expect(flag(await conn.request('mg timed l\r\n'), 'l')).to.be.within(0, 1);
      expect(await conn.request('me timed\r\n')).to.match(/^ME timed exp=-(97|98) la=[01] /);
      // a touch through mg restarts the TTL
      expect(await conn.request('mg timed T100 t\r\n')).to.equal('HD t100\r\n');
    });

    it('R wins the recache token once the TTL falls below it, and only once', async () => {
      expect(await conn.request('ms soon 1 T4\r\nx\r\n')).to.equal('HD\r\n');
      expect(await conn.request('mg soon R3 t\r\n')).to.match(/^HD t[34]\r\n$/);
      await sleep(2100);
      expect(await conn.request('mg soon R3 v\r\n')).to.equal('VA 1 W\r\nx\r\n');
      expect(await conn.request('mg soon R3 v\r\n')).to.equal('VA 1 Z\r\nx\r\n');
    });
  });

  describe('an item table made by an older memgate', () => {
    it('gains the meta columns when gateways start on it, several at once, and keeps its items', async () => {
      const table = freshTableName('old');
      const db = await mysql.createConnection(await getTestDatabaseUrl());
      try {
        // sql/innodb.sql before the meta protocol
        await db.query(`CREATE TABLE \`${table}\` (
          mkey VARBINARY(250) NOT NULL, string_value MEDIUMBLOB NOT NULL, flags INT UNSIGNED NOT NULL DEFAULT 0,
          cas_value BIGINT UNSIGNED NOT NULL, expiry INT UNSIGNED NOT NULL DEFAULT 0,
          PRIMARY KEY (mkey), KEY expiry_idx (expiry)) ENGINE=InnoDB`);
        await db.query(`INSERT INTO \`${table}\` (mkey, string_value, flags, cas_value, expiry) VALUES ('kept', 'old', 5, 1, 0)`);
        const gateways = await Promise.all([1, 2, 3].map(() => startGateway({ config: { db: { table } } })));
        try {
          const [columns] = await db.query(`SHOW COLUMNS FROM \`${table}\``);
          expect((columns as Array<{ Field: string }>).map((c) => c.Field)).to.include.members(['item_state', 'accessed_at']);
          const conn = await Conn.open(gateways[1]!.port);
          try {
            expect(await conn.request('get kept\r\n')).to.equal('VALUE kept 5 3\r\nold\r\nEND\r\n');
            // the get counted as a hit; an access time the old table never kept reads as 0
            expect(await conn.request('mg kept h l f v\r\n')).to.equal('VA 3 h1 l0 f5\r\nold\r\n');
            expect(await conn.request('mg kept h\r\n')).to.equal('HD h1\r\n');
            expect(await conn.request('md kept I\r\n')).to.equal('HD\r\n');
            expect(await conn.request('mg kept v\r\n')).to.equal('VA 3 X W\r\nold\r\n');
          } finally {
            await conn.close();
          }
        } finally {
          await Promise.all(gateways.map((g) => g.stop()));
        }
      } finally {
        await db.query(`DROP TABLE IF EXISTS \`${table}\``);
        await db.end();
      }
    });
  });
});
