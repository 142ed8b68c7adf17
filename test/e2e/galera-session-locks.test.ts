/**
 * Session locks on Galera when the writer node dies. Two real gateways (A and B, one table, the
 * same node list) write to the first healthy node of a 3-node cluster on loopback; a 2-node
 * cluster would lose its quorum with the writer. The lock table and memgate_gateways are MEMORY
 * tables: their DDL replicates, their rows stay on the node that wrote them. So a lock lives on
 * the writer only, and a writer's death frees every lock held through it: once the gateways
 * write to the next node, the lock is free there, while the session data (InnoDB, replicated)
 * is intact. When the old writer is back, the gateways move to it, and the locks held on the
 * other node are free in the same way. The cases run in order on one cluster and print the
 * measured timings (the `stats` command is no clock here: its database time read waits while the
 * cluster evicts the dead node, so failover times come from the gateways' logs).
 */
import { expect } from 'chai';
import mysql from 'mysql2/promise';
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
/** How long clients keep reading and writing after the kill: past the cluster's eviction of the node (~3 s). */
const OBSERVE_MS = 6000;

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

/** What a polling client saw, by kind of reply, in ms since the kill. */
class ReplyLog {
  readonly seen = new Map<string, { count: number; first: number; last: number }>();
  lastKind = '';
  /** the longest a request waited for its reply, and when that reply came */
  slowest = { ms: 0, at: 0 };
  record(reply: string, at: number, latency: number): void {
    const kind = reply.startsWith('SERVER_ERROR') ? reply.trim() : reply.split('\r\n')[0]!.replace(/^VALUE .*/, 'VALUE');
    this.lastKind = kind;
    if (latency > this.slowest.ms) this.slowest = { ms: latency, at };
    const entry = this.seen.get(kind);
    if (entry) {
      entry.count++;
      entry.last = at;
    } else this.seen.set(kind, { count: 1, first: at, last: at });
  }
  kinds(): string[] {
    return [...this.seen.keys()];
  }
  toString(): string {
    const kinds = [...this.seen].map(([kind, e]) => `${kind} x${e.count} (${e.first}-${e.last} ms)`).join('; ');
    return `${kinds}; slowest reply ${this.slowest.ms} ms, at ${this.slowest.at} ms`;
  }
}

/** Retries an add until it stores (bounded); the ms it took. */
async function addsWithin(conn: Conn, key: string, ms: number): Promise<number> {
  const started = Date.now();
  while ((await conn.request(add(key), STATEMENT_TIMEOUT_MS + 2000)) !== 'STORED\r\n') {
    if (Date.now() - started > ms) throw new Error(`${key} not taken within ${ms} ms`);
    await delay(20);
  }
  return Date.now() - started;
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
  /** Waits (bounded) until the gateway writes to `node`. */
  async function writerBecomes(gateway: Gateway, node: number, withinMs: number): Promise<void> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      if ((await stats(gateway)).get('db_writer') === String(node)) return;
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
  /** ms after the kill when the gateway last logged that its writes moved to node `to` */
  const movedAt = (gateway: Gateway, to: number) => {
    const { stdout, stderr } = gateway.process.output();
    const line = `${stdout}\n${stderr}`.split('\n').filter((l) => l.includes('database writer moved') && l.includes(`"to":${to}`)).pop();
    return line ? Date.parse(line.slice(0, 24)) - killedAt : undefined;
  };
  /**
   * Reads a MEMORY table on one node without waiting for the cluster (wsrep_sync_wait 0): its
   * rows never replicate, so there is nothing to wait for, and a causal read would stall until
   * the cluster has evicted the dead node.
   */
  async function peek<T>(node: number, statement: string): Promise<T[]> {
    const c = await mysql.createConnection({ uri: cluster!.nodes[node]!.url, connectTimeout: 2000 });
    try {
      await c.query('SET SESSION wsrep_sync_wait = 0');
      return (await c.query(statement))[0] as T[];
    } finally {
      await c.end().catch(() => c.destroy());
    }
  }

  /** Waits (bounded) until both gateways' heartbeats are on the node; the ms since the kill when they were. */
  async function heartbeatsOn(node: number, withinMs: number): Promise<number> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const pids = (await peek<{ pid: number }>(node, 'SELECT pid FROM memgate_gateways WHERE heartbeat_at >= UNIX_TIMESTAMP() - 2')).map((r) => r.pid);
      if (pids.includes(pidOf(gatewayA!)) && pids.includes(pidOf(gatewayB!))) return Date.now() - killedAt;
      if (Date.now() > deadline) throw new Error(`the heartbeats did not reach node ${node} within ${withinMs} ms`);
      await delay(50);
    }
  }

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
    const writer = await connect(gatewayA!);
    // A second session, locked through A right after the kill, then wanted through B.
    const fresh = `${sid}d`;
    const [takerA, wantsB] = [await connect(gatewayA!), await connect(gatewayB!)];
    const addLog = new ReplyLog();
    const readLog = new ReplyLog();
    const writeLog = new ReplyLog();
    const written = new Map<string, string>();
    killedAt = Date.now();
    await cluster!.kill(0);
    const since = () => Date.now() - killedAt;
    const timed = async (conn: Conn, request: string, log: ReplyLog) => {
      const sentAt = since();
      const reply = await conn.request(request, STATEMENT_TIMEOUT_MS + 2000);
      log.record(reply, since(), since() - sentAt);
      return reply;
    };
    // B's connection retries the add, as php-memcached does; through A, the session data is read
    // and other sessions are written, for a window longer than the cluster takes to evict node 0.
    const [freeAt, heartbeatsAt, early] = await Promise.all([
      (async () => {
        while (since() < 20_000) {
          if ((await timed(other, add(lockKey(sid)), addLog)) === 'STORED\r\n') return since();
          await delay(50);
        }
        throw new Error(`the lock is still not free 20 s after the kill: ${addLog}`);
      })(),
      heartbeatsOn(1, 20_000),
      (async () => {
        const takenAt = await addsWithin(takerA, lockKey(fresh), 5000);
        const reply = await wantsB.request(add(lockKey(fresh)), STATEMENT_TIMEOUT_MS + 2000);
        return { takenAt, reply, repliedAt: since() };
      })(),
      (async () => {
        while (since() < OBSERVE_MS) {
          await timed(reader, `get ${dataKey(sid)}\r\n`, readLog);
          await delay(50);
        }
      })(),
      (async () => {
        for (let i = 0; since() < OBSERVE_MS; i++) {
          const key = dataKey(`${sid}w${i}`);
          if ((await timed(writer, set(key, `n|i:${i};`), writeLog)) === 'STORED\r\n') written.set(key, `n|i:${i};`);
          await delay(50);
        }
      })(),
    ]);

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
      const keys = [...written.keys()];
      const stored = await cluster!.sql<Array<{ k: Buffer; v: Buffer }>>(node,
        `SELECT mkey AS k, string_value AS v FROM \`${table}\` WHERE mkey IN (${keys.map(() => '?').join(',')})`, keys);
      expect(new Map(stored.map((r) => [r.k.toString(), r.v.toString()])), `sets acknowledged during the failover, on node ${node}`)
        .to.deep.equal(written);
    }
    // Clients see the session data or a SERVER_ERROR while the cluster reconfigures, never a miss.
    expect(readLog.kinds().filter((kind) => kind !== 'VALUE' && !kind.startsWith('SERVER_ERROR')), 'reads never miss').to.deep.equal([]);
    expect(writeLog.kinds().filter((kind) => kind !== 'STORED' && !kind.startsWith('SERVER_ERROR'))).to.deep.equal([]);
    expect(readLog.lastKind, 'reads work again before the window ends').to.equal('VALUE');
    expect(writeLog.lastKind, 'writes work again before the window ends').to.equal('STORED');

    // Both gateways' heartbeats are on the new writer, fresh; the third node has none.
    const heartbeats = await gatewayRows(1);
    expect(heartbeats.map((r) => [r.pid, r.fresh])).to.deep.equal([[pidOf(gatewayA!), 1], [pidOf(gatewayB!), 1]].sort((x, y) => x[0]! - y[0]!));
    expect(await gatewayRows(2)).to.deep.equal([]);
    // The lock is free as soon as the gateway writes to the next node, not after a lock liveness.
    expect(freeAt, 'ms from the kill until B\'s add stored').to.be.below(5000);

    report.push(
      `writer node 0 SIGKILLed: B's add of the held lock STORED after ${freeAt} ms; "writer moved" logged after ` +
        `A ${movedAt(gatewayA!, 1)} ms, B ${movedAt(gatewayB!, 1)} ms; both heartbeats on node 1 after ${heartbeatsAt} ms`,
      `B's add replies after the kill: ${addLog}`,
      `A's gets of the session data (every 50 ms for ${OBSERVE_MS} ms): ${readLog}`,
      `A's sets of other sessions (every 50 ms for ${OBSERVE_MS} ms): ${writeLog}`,
      `a fresh lock taken through A ${early.takenAt} ms after the kill; B's add of it answered ${JSON.stringify(early.reply)} at ${early.repliedAt} ms`,
      `stats A: ${statLine(await stats(gatewayA!))}`,
      `stats B: ${statLine(await stats(gatewayB!))}`,
    );
    // Mutual exclusion holds from the first lock taken on the new writer, before the gateways'
    // first heartbeats there.
    expect(early.reply, 'B\'s add of a lock A took on the new writer, before the heartbeats reached it').to.equal('NOT_STORED\r\n');
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
  });

  it('the old writer back: the gateways move their writes back to it, and the locks held on the other node are free', async function () {
    this.timeout(45_000);
    const id = `${sid}c`;
    const holderB = await connect(gatewayB!);
    const otherA = await connect(gatewayA!);
    expect(await holderB.request(add(lockKey(id)))).to.equal('STORED\r\n');
    expect(await otherA.request(add(lockKey(id)))).to.equal('NOT_STORED\r\n');
    const restartedAt = Date.now();
    const { transfer } = await cluster!.restart(0);
    const syncedAfter = Date.now() - restartedAt;
    // The gateways probe node 0 and each moves back on its own once it is Synced.
    await Promise.all([writerBecomes(gatewayA!, 0, 15_000), writerBecomes(gatewayB!, 0, 15_000)]);
    const heartbeatsAt = await heartbeatsOn(0, 5000);
    expect(await otherA.request(add(lockKey(id))), 'the lock held on node 1 is not on node 0').to.equal('STORED\r\n');

    expect(await holderB.request(`delete ${lockKey(id)}\r\n`)).to.equal('NOT_FOUND\r\n');
    expect(await holderB.request(add(lockKey(id))), 'A\'s connection holds it now').to.equal('NOT_STORED\r\n');
    expect(await otherA.request(`get ${dataKey(sid)}\r\n`)).to.equal(valueReply(dataKey(sid), SESSION_DATA));
    const [backA, backB] = [movedAt(gatewayA!, 0)! - (restartedAt - killedAt), movedAt(gatewayB!, 0)! - (restartedAt - killedAt)];
    report.push(
      `node 0 restarted (${transfer}), Synced after ${syncedAfter} ms; "writer moved" back to it after A ${backA} ms, B ${backB} ms ` +
        `(the gateways wrote to different nodes for ${Math.abs(backA - backB)} ms); ` +
        `both heartbeats on node 0 ${heartbeatsAt - (restartedAt - killedAt)} ms after the restart began`,
    );
    for (const gateway of [gatewayA!, gatewayB!]) {
      const lines = complaints(gateway);
      report.push(`gateway ${gateway.name}: ${lines.length} warn/error log lines${lines.length ? ':' : ''}`, ...lines.slice(0, 8).map((l) => `  ${l}`));
    }
  });

});

function statLine(s: Map<string, string>): string {
  const names = ['db_writer', 'db_failovers', 'db_retries', 'db_unknown_outcomes', 'session_locks_taken', 'session_locks_taken_over', 'session_locks_busy',
    'session_locks_released', 'session_locks_refused_releases'];
  return names.map((name) => `${name} ${s.get(name)}`).join(', ');
}
