import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { getTestDatabaseUrl, statementsExecuted } from '../helpers/database.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { parseStats, RawConnection } from '../helpers/raw-connection.js';

describe('e2e: coalescing across connections', function () {
  this.timeout(30_000);
  const CLIENTS = 32;
  let gateway: RunningGateway;
  let db: mysql.Connection;
  let clients: RawConnection[] = [];

  before(async () => {
    gateway = await startGateway({ config: { coalesce: { enabled: true, maxInFlight: 1, maxWritesInFlight: 1 } } });
    db = await mysql.createConnection(await getTestDatabaseUrl());
    clients = await Promise.all(Array.from({ length: CLIENTS }, () => RawConnection.open(gateway.port)));
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
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

  it('writes one connection\'s pipelined sets with one statement, in order: the last set of a key wins', async () => {
    const c = clients[0]!;
    const sets = ['p-a', 'p-b', 'p-a', 'p-c', 'p-a'].map((key, i) => `set ${key} ${i} 0 2\r\nv${i}\r\n`);
    const before = await executed();
    await c.send(sets.join('') + 'get p-a p-b p-c\r\n');
    const replies = [];
    for (let i = 0; i < sets.length + 1; i++) replies.push(await c.reply());
    const statements = (await executed()) - before;
    expect(replies.slice(0, sets.length)).to.deep.equal(sets.map(() => 'STORED\r\n'));
    expect(replies[sets.length]).to.equal('VALUE p-a 4 2\r\nv4\r\nVALUE p-b 1 2\r\nv1\r\nVALUE p-c 3 2\r\nv3\r\nEND\r\n');
    // one merged upsert for the five sets (the parser may cut the stream in two), one read
    expect(statements, 'statements for 5 pipelined sets and a get').to.be.at.most(3);
  });

  it('more pipelined sets than one statement holds: every set stored once, each with its own CAS, in order', async () => {
    const c = clients[1]!;
    const count = 150; // more than the 64 rows of one merged statement
    let pipeline = '';
    for (let i = 0; i < count; i++) pipeline += `set many-${i % 100} 0 0 ${String(i).length}\r\n${i}\r\n`;
    await c.send(pipeline);
    for (let i = 0; i < count; i++) expect(await c.reply()).to.equal('STORED\r\n');
    const keys = Array.from({ length: 100 }, (_, i) => `many-${i}`);
    const got = await c.request(`gets ${keys.join(' ')}\r\n`);
    const items = [...got.matchAll(/^VALUE (\S+) 0 \d+ (\d+)\r\n(\d+)\r\n/gm)];
    expect(items.map((m) => m[1])).to.deep.equal(keys);
    // keys 0-49 were set twice: the later set (i + 100) wins
    expect(items.map((m) => Number(m[3]))).to.deep.equal(keys.map((_, i) => (i < 50 ? i + 100 : i)));
    const cas = items.map((m) => m[2]);
    expect(new Set(cas).size, 'distinct CAS values').to.equal(cas.length);
  });

  it('counts merged writes and the sets they held in stats (coalesce_write_batches, coalesce_write_sets)', async () => {
    const c = clients[2]!;
    const counts = async () => {
      const stats = parseStats(await c.request('stats\r\n'));
      return { batches: Number(stats.get('coalesce_write_batches')), sets: Number(stats.get('coalesce_write_sets')) };
    };
    const before = await counts();
    await c.send(Array.from({ length: 6 }, (_, i) => `set stat-${i} 0 0 1\r\n${i}\r\n`).join(''));
    for (let i = 0; i < 6; i++) expect(await c.reply()).to.equal('STORED\r\n');
    const after = await counts();
    expect(after.sets - before.sets).to.equal(6);
    // one merged write, or two if the six arrived in two reads
    expect(after.batches - before.batches).to.be.within(1, 2);
  });

  it('stats reset zeroes the coalesce_* and db_* counters like memcached\'s own, not the database gauges', async () => {
    const c = clients[3]!;
    const stats = async () => parseStats(await c.request('stats\r\n'));
    await c.send('set reset-a 0 0 1\r\na\r\nset reset-b 0 0 1\r\nb\r\n');
    expect([await c.reply(), await c.reply()]).to.deep.equal(['STORED\r\n', 'STORED\r\n']);
    expect(Number((await stats()).get('coalesce_write_sets'))).to.be.greaterThan(0);

    expect(await c.request('stats reset\r\n')).to.equal('RESET\r\n');
    const reset = await stats();
    for (const name of ['coalesce_read_batches', 'coalesce_read_keys', 'coalesce_write_batches', 'coalesce_write_sets',
      'db_failovers', 'db_retries', 'db_unknown_outcomes', 'db_node_0_downs', 'cmd_set']) {
      expect(reset.get(name), name).to.equal('0');
    }
    expect(reset.get('db_up')).to.equal('1');
    expect(reset.get('db_nodes')).to.equal('1');

    // They go on counting from zero.
    await c.send('get reset-a reset-b\r\nset reset-c 0 0 1\r\nc\r\n');
    expect(await c.reply()).to.equal('VALUE reset-a 0 1\r\na\r\nVALUE reset-b 0 1\r\nb\r\nEND\r\n');
    expect(await c.reply()).to.equal('STORED\r\n');
    const after = await stats();
    expect(after.get('coalesce_read_keys')).to.equal('2');
    expect(after.get('coalesce_write_sets')).to.equal('1');
  });
});

describe('e2e: coalescing window (coalesce.windowMs)', function () {
  this.timeout(30_000);
  let gateway: RunningGateway;
  let a: RawConnection;
  let b: RawConnection;

  before(async () => {
    gateway = await startGateway({ config: { coalesce: { enabled: true, windowMs: 300 } } });
    [a, b] = await Promise.all([RawConnection.open(gateway.port), RawConnection.open(gateway.port)]);
  });

  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await gateway?.stop();
  });

  it('holds a get that finds the database idle, so a get of another client 50 ms later joins its read', async () => {
    const reads = async () => {
      const stats = parseStats(await a.request('stats\r\n'));
      return { batches: Number(stats.get('coalesce_read_batches')), keys: Number(stats.get('coalesce_read_keys')) };
    };
    const before = await reads();
    const first = a.request('get window-a\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = b.request('get window-b\r\n');
    expect(await Promise.all([first, second])).to.deep.equal(['END\r\n', 'END\r\n']);
    const after = await reads();
    expect(after.batches - before.batches, 'merged reads').to.equal(1);
    expect(after.keys - before.keys, 'keys read').to.equal(2);
  });
});
