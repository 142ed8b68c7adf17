/**
 * Session locks on Galera when the writer node dies. Two real gateways (A and B, one table, the
 * same node list) write to the first healthy node of a 3-node cluster on loopback; a 2-node
 * cluster would lose its quorum with the writer. The lock table and memgate_gateways are MEMORY
 * tables: their DDL replicates, their rows stay on the node that wrote them. So a lock lives on
 * the writer only, and a writer's death frees every lock held through it: once the gateways
 * write to the next node, the lock is free there, while the session data (InnoDB, replicated)
 * is intact. The cases run in order on one cluster and print the measured timings.
 */
import { expect } from 'chai';
import { startCli, type Spawned } from '../helpers/cli.js';
import { findFreePort, freshTableName } from '../helpers/database.js';
import { galeraMissing, startGaleraCluster, type GaleraCluster } from '../helpers/galera-cluster.js';
import { parseStats, RawConnection as Conn } from '../helpers/raw-connection.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sid = `g${process.pid}x${Date.now().toString(36)}`;
const dataKey = (id: string) => `memc.sess.key.${id}`;
const lockKey = (id: string) => `memc.sess.key.lock.${id}`;
const add = (key: string) => `add ${key} 0 0 1\r\n1\r\n`;
const set = (key: string, value: string) => `set ${key} 0 1440 ${value.length}\r\n${value}\r\n`;
const valueReply = (key: string, value: string) => `VALUE ${key} 0 ${value.length}\r\n${value}\r\nEND\r\n`;
const SESSION_DATA = 'n|i:41;blob|s:16:"before the kill.";';
const STATEMENT_TIMEOUT_MS = 10_000;

/** One `memgate serve` child process. */
interface Gateway {
  name: string;
  port: number;
  process: Spawned;
}

async function startGatewayProcess(name: string, dbUrl: string, table: string): Promise<Gateway> {
  const port = await findFreePort();
  const args = ['serve', '--port', String(port), '--db-url', dbUrl, '--table', table, '--log-level', 'info',
    // A commit on the survivors waits until the cluster has evicted the dead node (~3 s).
    '--statement-timeout-ms', String(STATEMENT_TIMEOUT_MS)];
  const spawned = startCli(args, process.cwd(), {}, 110_000);
  const deadline = Date.now() + 20_000;
  while (!/listening/.test(spawned.output().stdout + spawned.output().stderr)) {
    if (spawned.child.exitCode !== null || Date.now() > deadline) {
      spawned.child.kill('SIGKILL');
      throw new Error(`gateway ${name} did not start: ${JSON.stringify(spawned.output())}`);
    }
    await delay(50);
  }
  return { name, port, process: spawned };
}

async function stopGateway(gateway: Gateway | undefined): Promise<void> {
  if (!gateway || gateway.process.child.exitCode !== null || gateway.process.child.signalCode !== null) return;
  gateway.process.child.kill('SIGTERM');
  const killer = setTimeout(() => gateway.process.child.kill('SIGKILL'), 5000);
  await gateway.process.exited;
  clearTimeout(killer);
}

/** The gateway's log lines at warn level or above, for the record. */
function complaints(gateway: Gateway): string[] {
  const { stdout, stderr } = gateway.process.output();
  return `${stdout}\n${stderr}`.split('\n').filter((line) => /warn|error/i.test(line));
}

/** Replies of one kind seen by a polling client, in ms since the kill. */
class ReplyLog {
  readonly seen = new Map<string, { count: number; first: number; last: number }>();
  record(reply: string, at: number): void {
    const kind = reply.startsWith('SERVER_ERROR') ? reply.trim() : reply.split('\r\n')[0]!.replace(/^VALUE .*/, 'VALUE');
    const entry = this.seen.get(kind);
    if (entry) {
      entry.count++;
      entry.last = at;
    } else this.seen.set(kind, { count: 1, first: at, last: at });
  }
  serverErrors(): number {
    return [...this.seen].filter(([kind]) => kind.startsWith('SERVER_ERROR')).reduce((n, [, e]) => n + e.count, 0);
  }
  toString(): string {
    return [...this.seen].map(([kind, e]) => `${kind} x${e.count} (${e.first}-${e.last} ms)`).join('; ');
  }
}

describe('e2e: session locks on Galera when the writer node dies (3 nodes, 2 gateways)', function () {
  this.timeout(60_000);
  let cluster: GaleraCluster | undefined;
  let gatewayA: Gateway | undefined;
  let gatewayB: Gateway | undefined;
  const open: Conn[] = [];
  const table = freshTableName('gsl');
  const report: string[] = [];
  /** the session lock holder, through A, kept open across the cases */
  let holder: Conn;
  let killedAt = 0;

  const connect = async (gateway: Gateway) => {
    const conn = await Conn.open(gateway.port);
    open.push(conn);
    return conn;
  };
  const stats = async (gateway: Gateway) => {
    const conn = await Conn.open(gateway.port);
    try {
      return parseStats(await conn.request('stats\r\n'));
    } finally {
      await conn.close();
    }
  };
  /** Waits (bounded) until the gateway writes to `node`; the ms since the kill when it did. */
  async function writerBecomes(gateway: Gateway, node: number, withinMs: number): Promise<number> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      if ((await stats(gateway)).get('db_writer') === String(node)) return Date.now() - killedAt;
      if (Date.now() > deadline) throw new Error(`gateway ${gateway.name} does not write to node ${node} after ${withinMs} ms`);
      await delay(50);
    }
  }
  const gatewayRows = (node: number) =>
    cluster!.sql<Array<{ gateway_id: string; pid: number; fresh: number }>>(node,
      'SELECT gateway_id, pid, heartbeat_at >= UNIX_TIMESTAMP() - 2 AS fresh FROM memgate_gateways ORDER BY pid');
  const lockRows = (node: number, key: string) =>
    cluster!.sql<Array<{ owner: string }>>(node, `SELECT owner FROM \`${table}_locks\` WHERE lock_key = ?`, [key]);
  const pidOf = (gateway: Gateway) => gateway.process.child.pid!;

  before(async function () {
    const missing = galeraMissing();
    if (missing) {
      if (process.env.CI) throw new Error(`the Galera session lock test cannot run: ${missing}`);
      console.warn(`      galera tests skipped: ${missing} (apt-get install mariadb-server galera-4 rsync)`);
      this.skip();
    }
    this.timeout(90_000);
    cluster = await startGaleraCluster({ nodes: 3 });
    const dbUrl = cluster.nodes.map((n) => n.url).join(',');
    // One after the other: the first creates the tables.
    gatewayA = await startGatewayProcess('A', dbUrl, table);
    gatewayB = await startGatewayProcess('B', dbUrl, table);
  });

  after(async function () {
    this.timeout(30_000);
    await Promise.all(open.map((conn) => conn.close()));
    await Promise.all([stopGateway(gatewayA), stopGateway(gatewayB)]);
    await cluster?.stop();
    for (const line of report) console.log(`      ${line}`);
  });

  it('creates the lock table and memgate_gateways on every node, as MEMORY tables whose rows stay on the writer', async () => {
    for (const node of cluster!.nodes) {
      const engines = await cluster!.sql<Array<{ name: string; engine: string }>>(node.index,
        `SELECT TABLE_NAME AS name, ENGINE AS engine FROM information_schema.TABLES
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?, 'memgate_gateways') ORDER BY TABLE_NAME`, [table, `${table}_locks`]);
      expect(engines, `tables on node ${node.index}`).to.deep.equal([
        { name: table, engine: 'InnoDB' }, { name: `${table}_locks`, engine: 'MEMORY' }, { name: 'memgate_gateways', engine: 'MEMORY' },
      ]);
    }
    // Both gateways write their heartbeats to node 0; the other nodes never see those rows.
    expect((await gatewayRows(0)).map((r) => [r.pid, r.fresh])).to.deep.equal([[pidOf(gatewayA!), 1], [pidOf(gatewayB!), 1]].sort((x, y) => x[0]! - y[0]!));
    expect(await gatewayRows(1)).to.deep.equal([]);
    expect(await gatewayRows(2)).to.deep.equal([]);
  });

  it('a lock taken through the writer excludes a connection of the other gateway', async () => {
    holder = await connect(gatewayA!);
    expect(await holder.request(add(lockKey(sid)))).to.equal('STORED\r\n');
    expect(await holder.request(set(dataKey(sid), SESSION_DATA))).to.equal('STORED\r\n');
    const other = await connect(gatewayB!);
    expect(await other.request(add(lockKey(sid)))).to.equal('NOT_STORED\r\n');
    expect(await other.request(`delete ${lockKey(sid)}\r\n`)).to.equal('NOT_FOUND\r\n');
    expect(await other.request(`get ${lockKey(sid)}\r\n`)).to.equal(valueReply(lockKey(sid), '1'));
    expect(await lockRows(0, lockKey(sid)), 'the lock row is on the writer').to.have.length(1);
    expect(await lockRows(1, lockKey(sid)), 'and on no other node').to.deep.equal([]);
    expect(await lockRows(2, lockKey(sid))).to.deep.equal([]);
  });

  it('the writer SIGKILLed: the lock is free on the next node, the holder\'s release is refused, the session data is intact', async function () {
    this.timeout(45_000);
    const other = await connect(gatewayB!);
    const reader = await connect(gatewayA!);
    const addLog = new ReplyLog();
    const readLog = new ReplyLog();
    let freeAt: number | undefined;
    let reading = true;
    killedAt = Date.now();
    await cluster!.kill(0);
    const since = () => Date.now() - killedAt;
    // B's connection retries the add, as php-memcached does; A's reads the session data meanwhile.
    const adding = (async () => {
      while (since() < 20_000) {
        const reply = await other.request(add(lockKey(sid)), STATEMENT_TIMEOUT_MS + 2000);
        addLog.record(reply, since());
        if (reply === 'STORED\r\n') return since();
        await delay(50);
      }
      throw new Error(`the lock is still not free 20 s after the kill: ${addLog}`);
    })();
    const readingDone = (async () => {
      while (reading && since() < 20_000) {
        readLog.record(await reader.request(`get ${dataKey(sid)}\r\n`, STATEMENT_TIMEOUT_MS + 2000), since());
        await delay(50);
      }
    })();
    try {
      freeAt = await adding;
    } finally {
      reading = false;
      await readingDone;
    }
    const writerA = await writerBecomes(gatewayA!, 1, 15_000);
    const writerB = await writerBecomes(gatewayB!, 1, 15_000);

    // The holder's request goes on and ends with its release: the lock is not its own any more.
    expect(await holder.request(`delete ${lockKey(sid)}\r\n`)).to.equal('NOT_FOUND\r\n');
    expect(await holder.request(add(lockKey(sid))), 'B holds it now').to.equal('NOT_STORED\r\n');
    const [ownerB] = (await gatewayRows(1)).filter((r) => r.pid === pidOf(gatewayB!));
    expect((await lockRows(1, lockKey(sid))).map((r) => r.owner), 'the lock row on the new writer is B\'s').to.deep.equal([ownerB?.gateway_id]);

    // The data acknowledged before the kill: through both gateways and on both survivors.
    expect(await holder.request(`get ${dataKey(sid)}\r\n`)).to.equal(valueReply(dataKey(sid), SESSION_DATA));
    expect(await other.request(`get ${dataKey(sid)}\r\n`)).to.equal(valueReply(dataKey(sid), SESSION_DATA));
    for (const node of [1, 2]) {
      const rows = await cluster!.sql<Array<{ v: Buffer }>>(node, `SELECT string_value AS v FROM \`${table}\` WHERE mkey = ?`, [dataKey(sid)]);
      expect(rows.map((r) => r.v.toString()), `session data on node ${node}`).to.deep.equal([SESSION_DATA]);
    }
    expect(readLog.seen.get('VALUE'), 'reads of the session data succeed after the failover').to.not.equal(undefined);
    expect([...readLog.seen.keys()].filter((kind) => kind !== 'VALUE' && !kind.startsWith('SERVER_ERROR')), 'reads never miss').to.deep.equal([]);

    // Both gateways' heartbeats are on the new writer, fresh; the third node has none.
    const heartbeats = await gatewayRows(1);
    expect(heartbeats.map((r) => [r.pid, r.fresh])).to.deep.equal([[pidOf(gatewayA!), 1], [pidOf(gatewayB!), 1]].sort((x, y) => x[0]! - y[0]!));
    expect(await gatewayRows(2)).to.deep.equal([]);
    // Bounds that keep this a failover of seconds, not of a lock liveness or a statement timeout.
    expect(freeAt, 'ms from the kill until B\'s add stored').to.be.below(8000);
    expect(addLog.serverErrors() + readLog.serverErrors(), 'SERVER_ERRORs seen').to.be.below(20);

    report.push(
      `writer node 0 SIGKILLed: B's add of the held lock STORED after ${freeAt} ms; gateways write to node 1 after ` +
        `A ${writerA} ms, B ${writerB} ms (polled after the add stored)`,
      `B's add replies after the kill: ${addLog}`,
      `A's get of the session data after the kill: ${readLog}`,
      `stats A: ${statLine(await stats(gatewayA!))}`,
      `stats B: ${statLine(await stats(gatewayB!))}`,
    );
  });

  it('while the old writer is down, a lock on the new writer excludes other connections again', async () => {
    const id = `${sid}b`;
    const first = await connect(gatewayA!);
    const second = await connect(gatewayB!);
    const third = await connect(gatewayA!);
    expect(await first.request(add(lockKey(id)))).to.equal('STORED\r\n');
    expect(await second.request(add(lockKey(id)))).to.equal('NOT_STORED\r\n');
    expect(await third.request(add(lockKey(id)))).to.equal('NOT_STORED\r\n');
    expect(await second.request(`delete ${lockKey(id)}\r\n`)).to.equal('NOT_FOUND\r\n');
    expect(await third.request(add(lockKey(id))), 'the refused delete changed nothing').to.equal('NOT_STORED\r\n');
    expect(await first.request(`delete ${lockKey(id)}\r\n`)).to.equal('DELETED\r\n');
    expect(await second.request(add(lockKey(id)))).to.equal('STORED\r\n');
    // A closed holder connection frees its lock within 1 s, on the new writer too.
    await second.close();
    const started = Date.now();
    while ((await third.request(add(lockKey(id)))) !== 'STORED\r\n') {
      expect(Date.now() - started, 'ms until the closed connection\'s lock was free').to.be.below(1000);
      await delay(50);
    }
    expect(cluster!.isRunning(0), 'the old writer is still down').to.equal(false);
    report.push(`on the new writer: a closed holder's lock was free after ${Date.now() - started} ms`);
    for (const gateway of [gatewayA!, gatewayB!]) {
      const lines = complaints(gateway);
      report.push(`gateway ${gateway.name}: ${lines.length} warn/error log lines${lines.length ? ':' : ''}`, ...lines.slice(0, 8).map((l) => `  ${l}`));
    }
  });
});

function statLine(s: Map<string, string>): string {
  const names = ['db_writer', 'db_failovers', 'db_retries', 'db_unknown_outcomes', 'session_locks_taken', 'session_locks_busy',
    'session_locks_released', 'session_locks_refused_releases'];
  return names.map((name) => `${name} ${s.get(name)}`).join(', ');
}
