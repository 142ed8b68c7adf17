/**
 * The session benchmark's figures and what it prints: a cell from its PHP processes' output,
 * per-view costs from counters read around it, the goals, and the table.
 */
import { expect } from 'chai';
import type { StoreName } from '../../../bench/sessions/options.js';
import { checkGoals, formatCells, formatFailures, formatGoals, formatHeader, type SessionMachine } from '../../../bench/sessions/report.js';
import {
  combineWorkers, cpuUsPerView, DB_COUNTERS, fsyncsPerView, lostIncrements, mergeFailureMessages, perView,
  type SessionCell, type WorkerOutput,
} from '../../../bench/sessions/stats.js';

function output(partial: Partial<WorkerOutput>): WorkerOutput {
  return { views: 0, allViews: 0, failures: 0, increments: 0, failureMessages: {}, cpuSeconds: 0, latenciesUs: [], ...partial };
}

function cell(store: StoreName, procs: number, viewsPerSecond: number, p99Ms: number, partial: Partial<SessionCell> = {}): SessionCell {
  return {
    store, procs, ids: 'distinct', seconds: 8, views: viewsPerSecond * 8, allViews: viewsPerSecond * 9, viewsPerSecond, p50Ms: p99Ms / 4, p99Ms, maxMs: p99Ms * 2,
    failures: 0, failureMessages: {}, brokenWorkers: 0, firstProblem: null, increments: viewsPerSecond * 9, finalN: null, lostIncrements: null,
    dbPerView: null, cpuUsPerView: { server: 100, database: null, php: 300 }, ...partial,
  };
}

describe('bench sessions: figures and report', function () {
  describe('a cell from its processes', function () {
    it('adds the counts, and takes the percentiles over every timed view of every process', function () {
      const latenciesA = Array.from({ length: 99 }, () => 1000); // 1 ms
      const totals = combineWorkers([
        { output: output({ views: 99, allViews: 120, increments: 118, failures: 2, failureMessages: { 'lock': 2 }, cpuSeconds: 0.5, latenciesUs: latenciesA }), problem: null },
        { output: output({ views: 1, allViews: 3, increments: 3, failureMessages: { 'lock': 1, 'write': 1 }, cpuSeconds: 0.25, latenciesUs: [50_000] }), problem: null },
        { output: null, problem: 'php exited with code 255: Fatal error' },
      ], 2);
      expect(totals).to.include({
        views: 100, allViews: 123, viewsPerSecond: 50, failures: 2, increments: 121, brokenWorkers: 1, firstProblem: 'php exited with code 255: Fatal error',
        p50Ms: 1, p99Ms: 1, maxMs: 50, phpCpuSeconds: 0.75,
      });
      expect(totals.failureMessages).to.deep.equal({ lock: 3, write: 1 });
    });

    it('has no percentiles without a timed view', function () {
      const totals = combineWorkers([{ output: null, problem: 'killed' }], 2);
      expect(totals.views).to.equal(0);
      expect(totals.p50Ms).to.be.NaN;
      expect(totals.brokenWorkers).to.equal(1);
    });

    it('keeps the most frequent failure messages only', function () {
      expect(mergeFailureMessages([{ a: 1, b: 5 }, { c: 3, a: 1 }], 2)).to.deep.equal({ b: 5, c: 3 });
    });
  });

  describe('per-view costs', function () {
    it('divides each counter\'s growth by the views, NaN for a counter the server lacks', function () {
      const before = new Map([['Handler_commit', 100], ['Com_insert', 10]]);
      const after = new Map([['Handler_commit', 400], ['Com_insert', 210]]);
      const result = perView(['Handler_commit', 'Com_insert', 'Innodb_os_log_fsyncs'], before, after, 100);
      expect(result.Handler_commit).to.equal(3);
      expect(result.Com_insert).to.equal(2);
      expect(result.Innodb_os_log_fsyncs).to.be.NaN;
    });

    it('counts redo log fsyncs where the server has them apart, else every InnoDB fsync', function () {
      const db = Object.fromEntries(DB_COUNTERS.map((name) => [name, 0])) as Record<(typeof DB_COUNTERS)[number], number>;
      expect(fsyncsPerView({ ...db, Innodb_os_log_fsyncs: 1, Innodb_data_fsyncs: 2 })).to.deep.equal({ value: 1, counter: 'Innodb_os_log_fsyncs' });
      expect(fsyncsPerView({ ...db, Innodb_os_log_fsyncs: Number.NaN, Innodb_data_fsyncs: 2 })).to.deep.equal({ value: 2, counter: 'Innodb_data_fsyncs' });
    });

    it('gives CPU microseconds per view, null for a store without that process', function () {
      expect(cpuUsPerView(1.5, 2.0, 1000)).to.equal(500);
      expect(cpuUsPerView(null, null, 1000)).to.equal(null);
      expect(cpuUsPerView(1, 2, 0)).to.be.NaN;
    });

    it('counts increments the read-back session does not show as lost', function () {
      expect(lostIncrements(320, 311)).to.equal(9);
      expect(lostIncrements(320, 320)).to.equal(0);
      expect(lostIncrements(320, null)).to.equal(null);
    });
  });

  describe('goals', function () {
    it('checks memgate against PdoSessionHandler and Redis-always at 8 and 32 processes on distinct ids', function () {
      const cells = [
        cell('memgate', 8, 1200, 4), cell('pdo', 8, 1000, 5), cell('redis-always', 8, 1000, 9),
        cell('memgate', 32, 1100, 20), cell('pdo', 32, 1000, 15), cell('redis-always', 32, 600, 30),
        cell('memgate', 8, 5000, 1, { ids: 'shared' }),
      ];
      const goals = checkGoals(cells);
      expect(goals.map((g) => [g.description, g.met])).to.deep.equal([
        ['8 processes, distinct ids: memgate views/s vs PdoSessionHandler', true],
        ['8 processes, distinct ids: memgate views/s vs Redis always', false],
        ['8 processes, distinct ids: memgate p99 minus PdoSessionHandler\'s', true],
        ['32 processes, distinct ids: memgate views/s vs PdoSessionHandler', false],
        ['32 processes, distinct ids: memgate views/s vs Redis always', true],
        ['32 processes, distinct ids: memgate p99 minus PdoSessionHandler\'s', false],
      ]);
      expect(goals[0]!.measured).to.be.closeTo(1.2, 1e-9);
      expect(goals[5]!.measured).to.equal(5);
      const printed = formatGoals(goals);
      expect(printed).to.contain('1.20x').and.contain('+5.00 ms').and.contain('NO');
    });

    it('leaves a goal unjudged when its cells were not measured', function () {
      const goals = checkGoals([cell('memgate', 8, 1200, 4)]);
      expect(goals.every((g) => g.met === null && g.measured === null)).to.equal(true);
      expect(formatGoals(goals)).to.contain('not measured');
    });
  });

  describe('table', function () {
    it('prints database costs for the MariaDB-backed stores only, lost increments for the shared id only', function () {
      const db = { Innodb_os_log_fsyncs: Number.NaN, Innodb_data_fsyncs: 2.5, Handler_commit: 4, Com_insert: 2, Com_update: 0, Com_delete: 1, Com_select: 1 };
      const text = formatCells([
        cell('memgate', 8, 981, 7.37, { dbPerView: db, cpuUsPerView: { server: 250, database: 400, php: 300 } }),
        cell('memcached', 8, 7831, 1, { ids: 'shared', finalN: 90, lostIncrements: 0, failures: 3, brokenWorkers: 1 }),
      ]);
      const [header, , memgate, memcached] = text.split('\n');
      expect(header).to.match(/^store\s+procs\s+ids\s+views\/s\s+p50 ms\s+p99 ms\s+failures\s+lost\s+fsync\/view\s+commit\/view/);
      expect(memgate).to.match(/^memgate\s+8\s+distinct\s+981\s+1\.84\s+7\.37\s+0\s+-\s+2\.50\s+4\.00\s+2\.00\/0\.00\/1\.00\/1\.00\s+250\/400\/300$/);
      expect(memcached).to.match(/^memcached\s+8\s+shared\s+7831\s+0\.25\s+1\.00\s+4\s+0\s+-\s+-\s+-\s+100\/-\/300$/);
    });

    it('lists each failing cell\'s problems and most frequent warnings', function () {
      const lines = formatFailures([
        cell('memcached', 32, 100, 1, { ids: 'shared', failures: 7, failureMessages: { 'Unable to clear session lock record': 7 } }),
        cell('pdo', 8, 100, 1, { brokenWorkers: 2, firstProblem: 'php exited with code 255' }),
        cell('memgate', 8, 100, 1),
      ]);
      expect(lines).to.deep.equal([
        '  memcached 32 shared: 7x Unable to clear session lock record',
        '  pdo 8 distinct: 2 PHP processes gave no result; first: php exited with code 255',
      ]);
    });

    it('names the machine, the versions and the fsync counter in the header', function () {
      const machine: SessionMachine = {
        cpus: 2, cpuModel: 'AMD EPYC', loadAvgBefore: [1, 2, 3], loadAvgAfter: [1, 2, 3], node: 'v20.0.0', php: '8.2.36',
        mariadb: '10.11.19-MariaDB', memcached: 'memcached 1.6.18', redis: '7.0.15', memgateCommit: 'abc123',
      };
      const db = { Innodb_os_log_fsyncs: Number.NaN, Innodb_data_fsyncs: 2, Handler_commit: 4, Com_insert: 2, Com_update: 0, Com_delete: 1, Com_select: 1 };
      const header = formatHeader(machine, { seconds: 8, warmupSeconds: 1.5, transport: 'tcp' }, [cell('pdo', 8, 1, 1, { dbPerView: db })]);
      expect(header).to.contain('2 CPUs (AMD EPYC)').and.contain('node v20.0.0').and.contain('PHP 8.2.36').and.contain('MariaDB 10.11.19-MariaDB')
        .and.contain('memcached 1.6.18').and.contain('Redis 7.0.15').and.contain('memgate abc123').and.contain('8 s per cell after 1.5 s warm-up')
        .and.contain('fsync = Innodb_data_fsyncs').and.contain('every store on 127.0.0.1 TCP');
      expect(formatHeader(machine, { seconds: 8, warmupSeconds: 1.5, transport: 'unix' }, [])).to.contain('every store on a unix socket');
    });
  });
});
