import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { getTestDatabaseUrl, statementsExecuted } from '../helpers/database.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { TextConnection } from '../helpers/text-connection.js';

describe('e2e: coalescing across connections', function () {
  this.timeout(30_000);
  const CLIENTS = 32;
  let gateway: RunningGateway;
  let db: mysql.Connection;
  let clients: TextConnection[] = [];

  before(async () => {
    gateway = await startGateway({ config: { coalesce: { enabled: true, maxInFlight: 1, maxWritesInFlight: 1 } } });
    db = await mysql.createConnection(await getTestDatabaseUrl());
    clients = await Promise.all(Array.from({ length: CLIENTS }, () => TextConnection.open(gateway.port)));
  });

  after(async () => {
    for (const c of clients) c.close();
    await db?.end();
    await gateway?.stop();
  });

  const executed = () => statementsExecuted(db);

  it('answers concurrent sets and gets of many clients with far fewer statements, each reply its own', async () => {
    // Warm up: the CAS block and the prepared statements are in place before counting.
    expect(await clients[0]!.request('set warm 0 0 1\r\nw\r\n')).to.equal('STORED\r\n');

    let before = await executed();
    const stored = await Promise.all(clients.map((c, i) => c.request(`set co-${i} ${i} 0 ${String(i).length}\r\n${i}\r\n`)));
    const setStatements = (await executed()) - before;
    expect(stored).to.deep.equal(clients.map(() => 'STORED\r\n'));

    before = await executed();
    const got = await Promise.all(clients.map((c, i) => c.request(`get co-${i} co-missing-${i}\r\n`)));
    const getStatements = (await executed()) - before;
    expect(got).to.deep.equal(clients.map((_, i) => `VALUE co-${i} ${i} ${String(i).length}\r\n${i}\r\nEND\r\n`));

    console.log(`      (${CLIENTS} concurrent sets: ${setStatements} statements; ${CLIENTS} concurrent gets: ${getStatements} statements)`);
    expect(getStatements, 'statements for 32 concurrent gets').to.be.below(CLIENTS / 2);
    expect(setStatements, 'statements for 32 concurrent sets').to.be.below(CLIENTS / 2);
  });
});
