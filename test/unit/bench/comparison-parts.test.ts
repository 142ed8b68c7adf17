/**
 * The comparison's parts that hold no server: its settings, its plan of cells, a cell's figures
 * from its slices, and what it prints around the table.
 */
import { expect } from 'chai';
import { cellProgress, combineCounts, failedCell, mergedPer, toCell, type MergeCounts, type Slice } from '../../../bench/compare/cells.js';
import type { ConnectionScaleResult } from '../../../bench/compare/connection-scale.js';
import type { LoadResult } from '../../../bench/compare/load.js';
import { DEFAULT_OPTIONS, optionsFromEnv } from '../../../bench/compare/options.js';
import { LATENCY_ROUNDS, estimateSeconds, groupSteps, planSteps, sliceTiming, type Step } from '../../../bench/compare/plan.js';
import { withRatios, checkTargets, type Cell } from '../../../bench/compare/report.js';
import {
  formatConnectionScale, formatPreamble, formatTable, gatewayEnv, reportJson, runSettings, serverOutputNote, type ComparisonReport, type MachineInfo,
} from '../../../bench/compare/run-report.js';

describe('bench compare parts', function () {
  describe('options from BENCH_* variables', function () {
    it('takes lists, numbers and names, and leaves unset ones to the defaults', function () {
      const options = optionsFromEnv({
        BENCH_SECONDS: '1.5', BENCH_WORKLOADS: 'get, mix', BENCH_CONCURRENCY: '1,16', BENCH_TARGETS: 'raw-sql,memgate-binary',
        BENCH_DEPTH: '4', BENCH_CONNECTIONS_TOTAL: '0', BENCH_GATEWAY_ARGS: ' --coalesce  off ', BENCH_JSON: '',
      });
      expect(options).to.deep.equal({
        seconds: 1.5, workloads: ['get', 'mix'], concurrencies: [1, 16], targets: ['raw-sql', 'memgate-binary'], depths: [4],
        totalConnections: 0, gatewayArgs: ['--coalesce', 'off'],
      });
      expect(optionsFromEnv({})).to.deep.equal({});
    });

    it('refuses what it cannot use, naming the variable', function () {
      expect(() => optionsFromEnv({ BENCH_WORKLOADS: 'get,delete' })).to.throw(/BENCH_WORKLOADS: delete is not one of get, set, mix/);
      expect(() => optionsFromEnv({ BENCH_CONCURRENCY: '1,0' })).to.throw(/BENCH_CONCURRENCY: not a positive whole number: 0/);
      expect(() => optionsFromEnv({ BENCH_SECONDS: '0.01' })).to.throw(/BENCH_SECONDS: expected a number >= 0.1, got 0.01/);
      expect(() => optionsFromEnv({ BENCH_TARGETS: 'redis' })).to.throw(/BENCH_TARGETS/);
    });
  });

  describe('plan', function () {
    const options = { ...DEFAULT_OPTIONS, workloads: ['get', 'mix'] as Cell['workload'][], concurrencies: [1, 16], targets: ['raw-sql', 'memgate-text'] as Cell['target'][], depths: [1, 16] };

    it('measures a lone connection at depth 1 only, every other cell at every depth', function () {
      const plan = planSteps(options);
      expect(plan).to.have.length(2 * (2 + 2 * 2));
      expect(plan.filter((s) => s.connections === 1).every((s) => s.depth === 1)).to.equal(true);
      expect(plan.slice(0, 4)).to.deep.equal([
        { workload: 'get', connections: 1, target: 'raw-sql', depth: 1 },
        { workload: 'get', connections: 1, target: 'memgate-text', depth: 1 },
        { workload: 'get', connections: 16, target: 'raw-sql', depth: 1 },
        { workload: 'get', connections: 16, target: 'raw-sql', depth: 16 },
      ]);
    });

    it('groups the 1-connection cells of each workload, one group per other cell, in plan order', function () {
      const groups = groupSteps(planSteps(options));
      expect(groups.map((g) => g.length)).to.deep.equal([2, 1, 1, 1, 1, 2, 1, 1, 1, 1]);
      expect(groups[0]!.map((s) => s.target)).to.deep.equal(['raw-sql', 'memgate-text']);
      expect(groups[5]!.every((s) => s.workload === 'mix' && s.connections === 1)).to.equal(true);
    });

    it('cuts a latency cell into slices with a short warm-up, and estimates the run from both kinds of cell', function () {
      const timing = { seconds: 3, warmupSeconds: 0.5 };
      expect(sliceTiming(timing)).to.deep.equal({ seconds: 3 / LATENCY_ROUNDS, warmupSeconds: 0.2 });
      expect(sliceTiming({ seconds: 3, warmupSeconds: 0.1 }).warmupSeconds).to.equal(0.1);
      const lone: Step = { workload: 'get', connections: 1, target: 'raw-sql', depth: 1 };
      const loaded: Step = { ...lone, connections: 16 };
      expect(estimateSeconds([lone], timing)).to.be.closeTo(3 + LATENCY_ROUNDS * (0.2 + 0.3), 1e-9);
      expect(estimateSeconds([loaded, loaded], timing)).to.be.closeTo(2 * (3 + 0.5 + 0.3), 1e-9);
    });
  });

  describe('cells from slices', function () {
    const step: Step = { workload: 'get', connections: 1, target: 'memgate-text', depth: 1 };
    const counts = (readBatches: number, readKeys: number, writeBatches: number, writeSets: number): MergeCounts => ({ readBatches, readKeys, writeBatches, writeSets });
    const result = (samples: number[], seconds: number): LoadResult => ({
      ops: samples.length, measuredSeconds: seconds, opsPerSecond: samples.length / seconds, p50Ms: Number.NaN, p99Ms: Number.NaN,
      maxMs: Number.NaN, hits: samples.length, misses: 0, stored: 0, errors: 0, samples: Float64Array.from(samples),
    });
    const slice = (samples: number[], cpu: Slice['cpuSeconds'], merged: MergeCounts | null): Slice => ({ result: result(samples, 0.5), wallSeconds: 1, cpuSeconds: cpu, merged });

    it('adds up the coalescing counters and says keys per read and sets per write, null where none ran', function () {
      expect(combineCounts(counts(10, 50, 2, 8), counts(4, 20, 2, 3), -1)).to.deep.equal(counts(6, 30, 0, 5));
      expect(mergedPer(counts(6, 30, 0, 5))).to.deep.equal({ keysPerRead: 5, setsPerWrite: null });
    });

    it('gives a cell the merged latencies of its slices and its CPU in % of one core over their wall time', function () {
      const cell = toCell(step, [
        slice([1, 2, 3], { server: 0.4, database: 0.1, generator: 0.2 }, counts(2, 8, 0, 0)),
        slice([4, 5], { server: 0.2, database: 0.1, generator: 0.3 }, counts(2, 4, 0, 0)),
      ]);
      expect(cell).to.include({ ...step, ops: 5, measuredSeconds: 1, opsPerSecond: 5, p50Ms: 3, maxMs: 5, hits: 5 });
      expect(cell).to.not.have.property('samples');
      expect(cell.cpuPercent).to.deep.equal({ server: 30, database: 10, generator: 25 });
      expect(cell.merged).to.deep.equal({ keysPerRead: 3, setsPerWrite: null });
      const raw = toCell({ ...step, target: 'raw-sql' }, [slice([1], { server: Number.NaN, database: 0.5, generator: 0.5 }, null)]);
      expect(raw.cpuPercent).to.deep.equal({ server: null, database: 50, generator: 50 });
      expect(raw.merged).to.equal(undefined);
    });

    it('reports a failed cell as one error with no figures, and says so in its progress line', function () {
      const failed = failedCell(step, 'connect ECONNREFUSED');
      expect(failed).to.include({ opsPerSecond: 0, errors: 1, firstError: 'connect ECONNREFUSED' });
      expect(failed.p50Ms).to.be.NaN;
      expect(cellProgress(failed, 3, 8, { interleaved: true, failed: true })).to.equal('[3/8] get x1 memgate-text depth 1: FAILED connect ECONNREFUSED');
      const cell = { ...failed, errors: 0, firstError: undefined, opsPerSecond: 1234.4, p50Ms: 0.5 };
      expect(cellProgress(cell, 4, 8, { interleaved: true, failed: false })).to.equal(`[4/8] get x1 memgate-text depth 1 (${LATENCY_ROUNDS} interleaved slices): 1234 ops/s, p50 0.500 ms`);
      expect(cellProgress({ ...cell, errors: 2, firstError: 'SERVER_ERROR x' }, 5, 8, { interleaved: false, failed: false }))
        .to.equal('[5/8] get x1 memgate-text depth 1: 1234 ops/s, p50 0.500 ms, 2 errors (SERVER_ERROR x)');
    });
  });

  describe('what the run prints and writes', function () {
    const machine: MachineInfo = {
      cpus: 2, cpuModel: 'cpu', memoryMb: 4096, loadAvgBefore: [0, 0, 0], loadAvgAfter: [1, 1, 1],
      loopbackRoundTripMs: { before: 0.0671, after: null }, guestHaltPollNs: 0, node: 'v20.0.0', mariadb: '10.11.19-MariaDB',
      memcached: null, memgateCommit: 'abc1234',
    };

    it('heads the table with the machine, the settings and the loopback round trips, unmeasured ones as ?', function () {
      const lines = formatPreamble(machine, { seconds: 3, keyCount: 10_000, valueSize: 1024 }).split('\n');
      expect(lines[0]).to.equal('memgate vs raw mysql2 vs memcached — 2 CPUs, node v20.0.0, MariaDB 10.11.19-MariaDB, 3 s per row, 10000 keys, 1024 B values, mix = 90% get / 10% set');
      expect(lines[5]).to.match(/^one loopback round trip between two processes \(median\): 0\.067 ms before the cells, \? ms after; /);
      expect(lines[6]).to.match(/^KVM guest halt polling \(guest_halt_poll_ns\): 0 ns; idle vCPUs halt at once/);
      expect(formatPreamble({ ...machine, guestHaltPollNs: null }, { seconds: 3, keyCount: 1, valueSize: 1 }).split('\n')).to.have.length(6);
      expect(formatPreamble({ ...machine, guestHaltPollNs: 200000 }, { seconds: 3, keyCount: 1, valueSize: 1 }).split('\n')[6])
        .to.equal('KVM guest halt polling (guest_halt_poll_ns): 200000 ns');
    });

    it('prints the table, each failed row\'s first error, the targets, and the gateway\'s memory when known', function () {
      const ok: Cell = {
        workload: 'get', connections: 16, target: 'raw-sql', depth: 1, ops: 10, measuredSeconds: 1, opsPerSecond: 10,
        p50Ms: 1, p99Ms: 2, maxMs: 3, hits: 10, misses: 0, stored: 0, errors: 0,
      };
      const rows = withRatios([ok, failedCell({ ...ok, target: 'memgate-text' }, 'boom')]);
      const text = formatTable(rows, checkTargets(rows), 2048);
      expect(text).to.include('\n  get x16 memgate-text depth 1: first error: boom\n');
      expect(text).to.include('(targets are information only; the run does not fail on them)');
      expect(text.split('\n').at(-1)).to.equal('gateway RSS after the run: 2.0 MB');
      expect(formatTable(rows, checkTargets(rows), null)).to.not.include('gateway RSS');
    });

    it('prints part 3 with the connections open and the memory in MB, unknown ones as ?', function () {
      const load = { ops: 1, measuredSeconds: 1, opsPerSecond: 5000.4, p50Ms: 1.5, p99Ms: 9, maxMs: 10, hits: 1, misses: 0, stored: 0, errors: 0 };
      const r: ConnectionScaleResult = {
        totalConnections: 300, idleRequested: 284, idleOpened: 280, idleConnectFailures: 4, rssBeforeKb: 1024, rssWithIdleKb: 2048,
        rssPeakUnderLoadKb: Number.NaN, rssAfterCloseKb: 2048, gatewayCurrConnections: null, loadAlone: load, loadWithIdle: load,
        idleProbed: 50, idleAnswered: 50,
        slowReader: {
          requestsSent: 100, requestBytes: 2048, requestBytesUnsent: 0, getsExecuted: 64, rssBeforeKb: 2048, rssPeakKb: 4096,
          rssGrowthKb: 2048, rssAfterKb: 4096, otherClientGetMs: Number.NaN,
        },
      };
      const lines = formatConnectionScale(r, 16, 1024).split('\n');
      expect(lines[1]).to.equal('connections open at once: 296 of 300 (280 idle, 16 loaded; 4 idle connects failed); the gateway counted ? idle ones open');
      expect(lines[2]).to.equal('gateway RSS before: 1.0 MB   with idle connections open: 2.0 MB   peak under load: ?   after closing them: 2.0 MB');
      expect(lines[3]).to.equal('get load, 16 connections, alone:            5000 ops/s, p50 1.500 ms, p99 9.000 ms, 0 errors');
      expect(lines.at(-1)).to.equal('  another client\'s get meanwhile: NO ANSWER within 5 s');
    });

    it('records the gateway\'s MEMGATE_* settings without secrets, the slices\' timing, and NaN as null in the JSON', function () {
      expect(gatewayEnv({ MEMGATE_COALESCE: 'off', MEMGATE_DB_URL: 'mysql://u:p@h/d', MEMGATE_SASL_PASSWORD_FILE: 'x', PATH: '/bin' }))
        .to.deep.equal({ MEMGATE_COALESCE: 'off' });
      const settings = runSettings({ ...DEFAULT_OPTIONS, seconds: 3, warmupSeconds: 0.5 }, {});
      expect(settings['latencyCells']).to.equal(`1 connection: each target runs ${LATENCY_ROUNDS} slices of 0.5 s (+0.2 s warm-up), the targets taking turns in a new random order every round`);
      const report = { machine, rows: [{ p50Ms: Number.NaN }], notes: [] } as unknown as ComparisonReport;
      expect(JSON.parse(reportJson(report)).rows[0].p50Ms).to.equal(null);
      expect(serverOutputNote('gateway of part 3', '  \n')).to.equal(null);
      expect(serverOutputNote('gateway of part 3', 'a\nb\nc\nd\ne\nf\n')).to.equal('the gateway of part 3 wrote (last lines): b | c | d | e | f');
    });
  });
});
