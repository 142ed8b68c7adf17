import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { freshTableName, getTestDatabaseUrl } from '../../helpers/database.js';
import { startGateway, type RunningGateway } from '../../helpers/gateway.js';
import { seedRows } from '../../../bench/seed.js';

const EXPIRED = 'UNIX_TIMESTAMP() - 1 - n MOD 600';

describe('the sweeper inside memgate serve (sweeper.interval)', function () {
  this.timeout(60_000);
  let connection: mysql.Connection;
  let gateways: RunningGateway[] = [];
  let table: string;

  const sql = async (text: string, params: unknown[] = []) => (await connection.query(text, params))[0];
  const count = async (where: string) =>
    Number((await sql(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE ${where}`) as Array<{ n: number | string }>)[0]!.n);
  const lease = async () =>
    (await sql('SELECT holder, CAST(expires_at AS SIGNED) - UNIX_TIMESTAMP() AS secondsLeft FROM memgate_lease WHERE name = ?', [`sweep:${table}`]) as
      Array<{ holder: string; secondsLeft: number | string }>)[0];
  const start = async () => {
    const gateway = await startGateway({ config: { db: { table }, sweeper: { interval: 1, pauseMs: 0 } } });
    gateways.push(gateway);
    return gateway;
  };
  /** Polls until no expired row is left; bounded. */
  const sweptWithin = async (ms: number) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if ((await count('expiry <> 0')) === 0) return true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return false;
  };

  before(async () => {
    connection = await mysql.createConnection(await getTestDatabaseUrl());
  });

  beforeEach(() => {
    table = freshTableName('periodic');
    gateways = [];
  });

  afterEach(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await sql(`DROP TABLE IF EXISTS \`${table}\``);
  });

  after(async () => {
    await connection?.end();
  });

  it('is off by default', async () => {
    const gateway = await startGateway({ config: { db: { table } } });
    gateways.push(gateway);
    await seedRows(sql, table, { prefix: 'dead:', count: 100, expirySql: EXPIRED });
    expect(await sweptWithin(2500)).to.equal(false);
    expect(await lease()).to.equal(undefined);
  });

  it('deletes expired rows every interval, keeps live ones, and gives the lease back on stop', async () => {
    const gateway = await start();
    await seedRows(sql, table, { prefix: 'dead:', count: 3_000, expirySql: EXPIRED });
    await seedRows(sql, table, { prefix: 'live:', count: 100, expirySql: '0' });
    expect(await sweptWithin(10_000), 'expired rows swept').to.equal(true);
    expect(await count('1')).to.equal(100);
    // Rows that expire later go in a later pass.
    await seedRows(sql, table, { prefix: 'later:', count: 500, expirySql: EXPIRED });
    expect(await sweptWithin(10_000), 'later rows swept').to.equal(true);
    // Between passes the gateway keeps the lease, so other gateways do not sweep as well.
    expect(Number((await lease())!.secondsLeft)).to.be.above(0);
    await gateway.stop();
    expect(Number((await lease())!.secondsLeft), 'lease given back').to.be.at.most(0);
  });

  it('two gateways: one holds the sweep between passes; the other sweeps once that one stops', async () => {
    const [a] = [await start(), await start()];
    await seedRows(sql, table, { prefix: 'dead:', count: 1_000, expirySql: EXPIRED });
    expect(await sweptWithin(10_000)).to.equal(true);
    const holders = new Set<string>();
    for (let i = 0; i < 12; i++) {
      holders.add((await lease())!.holder);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(holders.size, 'the same gateway sweeps pass after pass').to.equal(1);
    await a!.stop();
    await seedRows(sql, table, { prefix: 'later:', count: 1_000, expirySql: EXPIRED });
    expect(await sweptWithin(10_000), 'the gateway left sweeps').to.equal(true);
  });
});
