/**
 * The lock-design benchmark's parts that hold no server: what each design sends for a page
 * view (on a fake connection), the lock statements, design D's merging of writes, and the
 * settings, plan and figures of a run.
 */
import { expect } from 'chai';
import { dataKeyOf, lockKeyOf, pageViews, type ViewClient } from '../../../bench/sessions-locks/designs.js';
import { GroupWriter } from '../../../bench/sessions-locks/group-writer.js';
import { RELEASE_LOCK_SQL, takeLockSql } from '../../../bench/sessions-locks/lock-sql.js';
import {
  cellFigures, estimateSeconds, formatTable, lockOptionsFromEnv, planCells, sessionId, type SliceResult,
} from '../../../bench/sessions-locks/plan.js';
import { fsyncCounter } from '../../../bench/sessions-locks/slice.js';
import type { ItemValues } from '../../../src/store/sql/insert-item.js';
import type { SqlSession } from '../../../src/store/sql-session.js';

interface Sent {
  sql: string;
  params: readonly unknown[];
}

/** A connection that records every statement and answers from `answer` (default: 1 row changed). */
function fakeSession(answer: (sql: string) => unknown = () => ({ affectedRows: 1 })) {
  const sent: Sent[] = [];
  const send = async (sql: string, params: readonly unknown[] = []) => {
    sent.push({ sql, params });
    const result = answer(sql);
    if (result instanceof Error) throw result;
    return [result, []];
  };
  return { sent, session: { execute: send, query: send } as unknown as SqlSession };
}

const verbs = (sent: Sent[]) => sent.map((s) => s.sql.trim().split(/\s+/)[0]!.toUpperCase() + (s.sql.includes('memgate_locks') ? ' lock' : ''));

function clientOn(session: SqlSession): ViewClient {
  let cas = 1n;
  return { session, gatewayId: 'g1', connId: 7, value: Buffer.from('data'), nextCas: () => cas++ };
}

describe('bench lock designs', function () {
  const views = pageViews('kv');

  describe('page views', function () {
    it('A: lock add, read, write and lock delete, each on its own (four autocommits)', async function () {
      const { sent, session } = fakeSession((sql) => (sql.startsWith('SELECT') ? [] : { affectedRows: 1 }));
      expect(await views.A(clientOn(session), 's1')).to.equal(true);
      expect(verbs(sent)).to.deep.equal(['INSERT', 'SELECT', 'INSERT', 'DELETE']);
      expect(sent[0]!.params[0]).to.deep.equal(lockKeyOf('s1'));
      expect(sent[1]!.params).to.deep.equal([dataKeyOf('s1')]);
      expect(sent[3]!.params).to.deep.equal([lockKeyOf('s1')]);
    });

    it('A and B: a lock add that changes no row is a busy lock, and nothing else is sent', async function () {
      for (const design of ['A', 'B', 'B+live'] as const) {
        const { sent, session } = fakeSession(() => ({ affectedRows: 0 }));
        expect(await views[design](clientOn(session), 's1')).to.equal(false);
        expect(sent).to.have.length(1);
      }
    });

    it('B: the lock lives in the MEMORY table and is released only as its holder', async function () {
      const { sent, session } = fakeSession((sql) => (sql.startsWith('SELECT') ? [] : { affectedRows: 1 }));
      expect(await views.B(clientOn(session), 's1')).to.equal(true);
      expect(verbs(sent)).to.deep.equal(['INSERT lock', 'SELECT', 'INSERT', 'DELETE lock']);
      expect(sent[3]!.sql).to.equal(RELEASE_LOCK_SQL);
      expect(sent[3]!.params).to.deep.equal([lockKeyOf('s1'), 'g1', 7]);
    });

    it('C: everything in one transaction, the lock row inserted and deleted before the commit', async function () {
      const { sent, session } = fakeSession((sql) => (sql.startsWith('SELECT') ? [] : { affectedRows: 1 }));
      expect(await views.C(clientOn(session), 's1')).to.equal(true);
      expect(verbs(sent)).to.deep.equal(['BEGIN', 'INSERT', 'SELECT', 'INSERT', 'DELETE', 'COMMIT']);
    });

    it('C: a lock wait timeout (1205) is a busy lock, rolled back; other errors are not swallowed', async function () {
      const busy = fakeSession((sql) => (sql.startsWith('INSERT') ? Object.assign(new Error('lock wait'), { errno: 1205 }) : {}));
      expect(await views.C(clientOn(busy.session), 's1')).to.equal(false);
      expect(verbs(busy.sent)).to.deep.equal(['BEGIN', 'INSERT', 'ROLLBACK']);
      const broken = fakeSession((sql) => (sql.startsWith('INSERT') ? Object.assign(new Error('gone'), { errno: 2013 }) : {}));
      let thrown: unknown;
      await views.C(clientOn(broken.session), 's1').catch((error: unknown) => (thrown = error));
      expect((thrown as Error).message).to.equal('gone');
      expect(verbs(broken.sent)).to.deep.equal(['BEGIN', 'INSERT', 'ROLLBACK']);
    });

    it('D: the data write goes to the shared writer, not the client connection', async function () {
      const { sent, session } = fakeSession((sql) => (sql.startsWith('SELECT') ? [] : { affectedRows: 1 }));
      const written: ItemValues[] = [];
      const writer = { write: async (row: ItemValues) => void written.push(row) } as unknown as GroupWriter;
      expect(await views.D({ ...clientOn(session), writer }, 's1')).to.equal(true);
      expect(verbs(sent)).to.deep.equal(['INSERT lock', 'SELECT', 'DELETE lock']);
      expect(written.map((r) => r.key)).to.deep.equal([dataKeyOf('s1')]);
    });
  });

  describe('lock statements', function () {
    it('asks about the holder\'s gateway only with liveness', function () {
      expect(takeLockSql(false)).not.to.include('memgate_gateways');
      expect(takeLockSql(true)).to.match(/owner NOT IN \(SELECT gateway_id FROM memgate_gateways WHERE heartbeat_at > UNIX_TIMESTAMP\(\) - 5\)/);
    });

    it('judges a held lock once, before any column it reads is assigned', function () {
      const assignments = takeLockSql(true).split('ON DUPLICATE KEY UPDATE')[1]!.split(/,\n/).map((a) => a.trim());
      expect(assignments.map((a) => a.split(' ')[0])).to.deep.equal(['acquired_at', 'owner', 'conn_id', 'expiry']);
      expect(assignments[0]).to.include('@memgate_take :=');
      for (const later of assignments.slice(1)) expect(later).to.match(/^\w+ = IF\(@memgate_take, VALUES\(\w+\), \w+\)$/);
    });

    it('releases by key, owner and connection', function () {
      expect(RELEASE_LOCK_SQL).to.match(/WHERE lock_key = \? AND owner = \? AND conn_id = \?$/);
    });

    it('counts the redo log\'s fsyncs where the server has them, else all InnoDB fsyncs', function () {
      expect(fsyncCounter(['Innodb_data_fsyncs', 'Innodb_os_log_fsyncs'])).to.equal('Innodb_os_log_fsyncs');
      expect(fsyncCounter(['Innodb_data_fsyncs'])).to.equal('Innodb_data_fsyncs');
    });
  });

  describe('group writer', function () {
    const row = (key: string): ItemValues => ({ key: Buffer.from(key), value: Buffer.from('v'), flags: 0, cas: 1n, bits: 0, exptime: 0 });

    it('writes alone at once, then merges what arrived meanwhile into one statement, sorted and padded', async function () {
      const statements: string[][] = [];
      let release: () => void = () => undefined;
      const setMany = async (_session: SqlSession, rows: ItemValues[]) => {
        statements.push(rows.map((r) => r.key.toString()));
        if (statements.length === 1) await new Promise<void>((resolve) => (release = resolve));
      };
      const writer = new GroupWriter([{} as SqlSession], setMany);
      const first = writer.write(row('m'));
      const later = [writer.write(row('z')), writer.write(row('b')), writer.write(row('k'))];
      expect(statements).to.deep.equal([['m']]);
      release();
      await Promise.all([first, ...later]);
      // Three rows pad to four (a statement size of SET_ROW_COUNTS) by repeating one.
      expect(statements[1]).to.have.length(4);
      expect(statements[1]!.slice(0, 3)).to.deep.equal(['b', 'k', 'z']);
      expect(writer.counts).to.deep.equal({ writes: 2, rows: 4 });
    });
  });

  describe('plan and figures', function () {
    it('takes BENCH_LOCKS_SECONDS and BENCH_LOCKS_ROUNDS, refusing what it cannot use', function () {
      expect(lockOptionsFromEnv({})).to.deep.equal({ seconds: 14, rounds: 4, warmupSeconds: 0.4 });
      expect(lockOptionsFromEnv({ BENCH_LOCKS_SECONDS: '2', BENCH_LOCKS_ROUNDS: '2' })).to.deep.equal({ seconds: 2, rounds: 2, warmupSeconds: 0.4 });
      expect(lockOptionsFromEnv({ BENCH_LOCKS_SECONDS: '1', BENCH_LOCKS_ROUNDS: '4' }).warmupSeconds).to.equal(0.125);
      expect(() => lockOptionsFromEnv({ BENCH_LOCKS_SECONDS: '0' })).to.throw(/BENCH_LOCKS_SECONDS: expected a number >= 0.4, got 0/);
      expect(() => lockOptionsFromEnv({ BENCH_LOCKS_ROUNDS: '1.5' })).to.throw(/BENCH_LOCKS_ROUNDS: expected a whole number >= 1/);
    });

    it('measures every design at 8 and 32 clients on distinct sessions, and B, B+live and C on one shared session', function () {
      const cells = planCells();
      expect(cells.filter((c) => !c.shared).map((c) => `${c.design}/${c.clients}`)).to.deep.equal([
        'A/8', 'B/8', 'B+live/8', 'C/8', 'D/8', 'A/32', 'B/32', 'B+live/32', 'C/32', 'D/32',
      ]);
      expect(cells.filter((c) => c.shared).map((c) => `${c.design}/${c.clients}`)).to.deep.equal(['B/8', 'B+live/8', 'C/8']);
      // The default run stays under about four minutes.
      expect(estimateSeconds(lockOptionsFromEnv({}), cells.length)).to.be.below(240);
    });

    it('gives each client its own session id, unique across cells, except in a shared cell', function () {
      const ids = planCells().filter((c) => !c.shared).flatMap((cell) => Array.from({ length: cell.clients }, (_, i) => sessionId(cell, i)));
      expect(new Set(ids).size).to.equal(ids.length);
      for (const id of ids) expect(id).to.match(/^[A-Za-z0-9]+$/);
      const shared = { design: 'C' as const, clients: 8, shared: true };
      expect(sessionId(shared, 0)).to.equal(sessionId(shared, 7));
    });

    it('adds up slices into per-view figures, percentiles over all samples', function () {
      const slice = (samples: number[], extra: Partial<SliceResult>): SliceResult => ({
        seconds: 1, samples: Float64Array.from(samples), attempts: samples.length, busy: 0, errors: 0, fsyncs: 0, commits: 0, cpuSeconds: 0, ...extra,
      });
      const figures = cellFigures([
        slice([1, 2, 3], { fsyncs: 3, commits: 6, cpuSeconds: 0.0003, busy: 1, attempts: 4, merged: { writes: 2, rows: 3 } }),
        slice([4], { fsyncs: 1, commits: 2, cpuSeconds: 0.0001, merged: { writes: 1, rows: 3 } }),
      ]);
      expect(figures).to.include({ views: 4, viewsPerSecond: 2, p50: 2, p99: 4, fsyncsPerView: 1, commitsPerView: 2, busyShare: 0.2, rowsPerWrite: 2, errors: 0 });
      expect(figures.cpuUsPerView).to.be.closeTo(100, 1e-9);
      const table = formatTable([{ cell: { design: 'B', clients: 8, shared: true }, figures }]);
      expect(table.split('\n')[2]).to.equal('| B: lock rows in a MEMORY table | 8 | one shared | 2 | 2.00 | 4.00 | 1.00 | 2.00 | 100 | 20.0 % |');
    });
  });
});
