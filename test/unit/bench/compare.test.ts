/**
 * The arithmetic and parsing the benchmark's figures rest on: percentiles, ratios, the
 * targets check, and the reply parsers that tell the load generator a request completed.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import {
  BinaryReplyParser,
  TextReplyParser,
  binaryGet,
  binarySet,
  textGet,
  textSet,
  type ReplyKind,
} from '../../../bench/compare/memcache-protocol.js';
import { mergeSlices, roundOrders } from '../../../bench/compare/interleave.js';
import type { LoadResult } from '../../../bench/compare/load.js';
import { guestHaltPollNs, loopbackRoundTripMs } from '../../../bench/compare/loopback.js';
import { checkTargets, formatRows, formatTargets, withRatios, type Cell } from '../../../bench/compare/report.js';
import { Samples, percentile, summarize } from '../../../bench/compare/stats.js';
import { statFields } from '../../../src/embedded/process-utils.js';
import { Opcode } from '../../../src/protocol/binary/opcodes.js';
import { binaryRequest, binaryResponse, storeExtras } from '../../helpers/binary-packets.js';
import { feedings } from '../../helpers/chunking.js';

/** Processes whose parent is this one. */
async function childCount(): Promise<number> {
  let count = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (stat && Number(statFields(stat)[1]) === process.pid) count++;
  }
  return count;
}

describe('bench compare', function () {
  describe('percentile (nearest rank)', function () {
    const oneToHundred = Float64Array.from({ length: 100 }, (_, i) => i + 1);

    it('is the smallest sample with at least q of the samples at or below it', function () {
      expect(percentile(oneToHundred, 0.5)).to.equal(50);
      expect(percentile(oneToHundred, 0.99)).to.equal(99);
      expect(percentile(oneToHundred, 1)).to.equal(100);
      expect(percentile(oneToHundred, 0.001)).to.equal(1);
      expect(percentile([1, 2, 3], 0.5)).to.equal(2);
      expect(percentile([1, 2, 3, 4], 0.5)).to.equal(2);
      expect(percentile([7], 0.99)).to.equal(7);
    });

    it('is NaN without samples and refuses q outside (0, 1]', function () {
      expect(percentile([], 0.5)).to.be.NaN;
      expect(() => percentile([1], 0)).to.throw(RangeError);
      expect(() => percentile([1], 1.5)).to.throw(RangeError);
    });

    it('summarize sorts numerically, not as text', function () {
      const s = summarize([10, 9, 100, 2, 1]);
      expect(s).to.deep.equal({ count: 5, p50: 9, p99: 100, max: 100 });
    });

    it('Samples keeps every value past its first capacity', function () {
      const samples = new Samples();
      for (let i = 0; i < 70_000; i++) samples.push(i);
      expect(samples.length).to.equal(70_000);
      expect(samples.view()[69_999]).to.equal(69_999);
      expect(summarize(samples.view()).p50).to.equal(34_999);
    });
  });

  describe('report', function () {
    const cell = (target: Cell['target'], workload: Cell['workload'], connections: number, opsPerSecond: number, p50Ms: number, depth = 1): Cell => ({
      target, workload, connections, depth, opsPerSecond, p50Ms, p99Ms: p50Ms * 3, maxMs: p50Ms * 4,
      ops: opsPerSecond * 5, measuredSeconds: 5, hits: 0, misses: 0, stored: 0, errors: 0,
    });
    const cells: Cell[] = [
      cell('raw-sql', 'get', 16, 20_000, 0.8),
      cell('memgate-text', 'get', 16, 40_000, 0.4),
      cell('memgate-binary', 'get', 16, 25_000, 0.6),
      cell('memcached-text', 'get', 16, 80_000, 0.2),
      cell('raw-sql', 'set', 16, 10_000, 1.6),
      cell('memgate-text', 'set', 16, 9_000, 1.8),
      cell('raw-sql', 'get', 1, 5_000, 0.2),
      cell('memgate-text', 'get', 1, 3_000, 0.35),
      cell('memgate-text', 'get', 16, 120_000, 2, 16),
      cell('raw-sql', 'get', 16, 24_000, 8, 16),
      cell('memgate-text', 'set', 16, 30_000, 2, 16),
    ];

    it('puts memgate ops/s over raw SQL and over memcached at the same workload, connections and depth', function () {
      const rows = withRatios(cells);
      const text16 = rows.find((r) => r.target === 'memgate-text' && r.workload === 'get' && r.connections === 16 && r.depth === 1)!;
      expect(text16.vsRawSql).to.equal(2);
      expect(text16.vsMemcached).to.equal(0.5);
      expect(text16.p50OverRawSqlMs).to.be.closeTo(-0.4, 1e-9);
      // binary falls back to memcached's text row when memcached binary was not measured
      expect(rows.find((r) => r.target === 'memgate-binary')!.vsMemcached).to.equal(25_000 / 80_000);
      // at depth 16 raw SQL's own depth-16 row counts; memcached was not measured there
      const deep = rows.find((r) => r.target === 'memgate-text' && r.workload === 'get' && r.depth === 16)!;
      expect(deep.vsRawSql).to.equal(5);
      expect(deep.vsMemcached).to.equal(null);
      // no raw SQL row at that depth: no ratio rather than one against another depth
      expect(rows.find((r) => r.workload === 'set' && r.depth === 16)!.vsRawSql).to.equal(null);
      expect(rows.find((r) => r.target === 'raw-sql')!.vsRawSql).to.equal(null);
    });

    it('checks the throughput targets at every depth against raw SQL\'s best at 16 connections, latency at depth 1, and says which were not measured', function () {
      const checks = checkTargets(withRatios(cells));
      const find = (target: string, description: string) => checks.find((c) => c.target === target && c.description.startsWith(description))!;
      // raw SQL's get: 20,000 ops/s at depth 1, 24,000 at depth 16; the best counts at every depth
      expect(find('memgate-text', 'get at 16 connections, depth 1,')).to.include({ met: true });
      expect(find('memgate-text', 'get at 16 connections, depth 1,').measured).to.be.closeTo(40_000 / 24_000, 1e-9);
      expect(find('memgate-binary', 'get at 16 connections, depth 1,')).to.include({ met: false });
      expect(find('memgate-text', 'set at 16 connections, depth 1,')).to.include({ measured: 0.9, met: false });
      expect(find('memgate-binary', 'set at 16 connections, depth 1,')).to.include({ measured: null, met: null });
      expect(find('memgate-text', 'get at 16 connections, depth 16,')).to.include({ measured: 5, met: true });
      // no raw SQL set at depth 16: its depth-1 row is its best
      expect(find('memgate-text', 'set at 16 connections, depth 16,')).to.include({ measured: 3, met: true });
      // a raw SQL cell that failed (0 ops/s) is no baseline: not measured, rather than infinitely met
      const failedRaw = checkTargets(withRatios(cells.map((c) => (c.target === 'raw-sql' && c.workload === 'set' ? { ...c, opsPerSecond: 0 } : c))));
      expect(failedRaw.find((c) => c.target === 'memgate-text' && c.description.startsWith('set at 16 connections, depth 16,'))).to.include({ measured: null, met: null });
      expect(checks.filter((c) => c.description.startsWith('get at 1 connection'))).to.have.length(2);
      expect(find('memgate-text', 'get at 1 ')!.measured).to.be.closeTo(0.15, 1e-9);
      expect(find('memgate-text', 'get at 1 ').met).to.equal(true);
      // no mix cells at all in this run: no mix check
      expect(checks.some((c) => c.description.startsWith('mix'))).to.equal(false);
    });

    it('formats one line per row with the ratios, and NO for a missed target', function () {
      const rows = withRatios(cells);
      const lines = formatRows(rows).split('\n');
      expect(lines).to.have.length(cells.length + 2);
      expect(lines[2]).to.match(/^get\s+16\s+raw-sql\s+1\s+20000\s+0\.800\s+2\.400\s+-\s+-\s+0\s+-\s+-$/);
      expect(lines[3]).to.match(/^get\s+16\s+memgate-text\s+1\s+40000\s+0\.400\s+1\.200\s+2\.00\s+0\.500\s+0\s+-\s+-$/);
      const withCpu = formatRows(withRatios([
        { ...cells[0]!, cpuPercent: { server: null, database: 40, generator: 57 } },
        { ...cells[1]!, cpuPercent: { server: 47, database: 19, generator: 26 }, merged: { keysPerRead: 7.25, setsPerWrite: null } },
      ])).split('\n');
      expect(withCpu[2]).to.match(/\s0\s+-\/40\/57\s+-$/);
      expect(withCpu[3]).to.match(/\s0\s+47\/19\/26\s+7\.3\/-$/);
      const targets = formatTargets(checkTargets(rows));
      expect(targets).to.match(/set at 16 connections, depth 1, ops\/s vs raw SQL's best\s+memgate-text\s+0\.90x\s+>= 1\.0x\s+NO/);
      expect(targets).to.match(/get at 1 connection, depth 1, p50 minus raw SQL's p50\s+memgate-text\s+\+0\.150 ms\s+<= 0\.200 ms\s+yes/);
    });
  });

  describe('interleaved 1-connection cells', function () {
    const slice = (samples: number[], seconds: number, extra: Partial<LoadResult> = {}): LoadResult => ({
      ops: samples.length, measuredSeconds: seconds, opsPerSecond: samples.length / seconds, p50Ms: Number.NaN, p99Ms: Number.NaN,
      maxMs: Number.NaN, hits: samples.length, misses: 0, stored: 0, errors: 0, samples: Float64Array.from(samples), ...extra,
    });

    it('gives every round all the targets once, in orders that differ between rounds and repeat with the seed', function () {
      const orders = roundOrders(['raw', 'text', 'binary', 'memcached'], 6, 3);
      expect(orders).to.have.length(6);
      for (const order of orders) expect([...order].sort()).to.deep.equal(['binary', 'memcached', 'raw', 'text']);
      expect(new Set(orders.map((o) => o.join())).size).to.be.greaterThan(1);
      expect(roundOrders(['raw', 'text', 'binary', 'memcached'], 6, 3)).to.deep.equal(orders);
    });

    it('merges slices: counts and seconds add up, percentiles come from all samples together', function () {
      const merged = mergeSlices([slice([1, 2, 3], 0.5), slice([10, 11], 0.5, { errors: 1, firstError: 'boom', hits: 1, misses: 1 })]);
      expect(merged).to.include({ ops: 5, measuredSeconds: 1, opsPerSecond: 5, p50Ms: 3, maxMs: 11, hits: 4, misses: 1, errors: 1, firstError: 'boom' });
      expect(merged.samples).to.equal(undefined);
      expect(() => mergeSlices([slice([1], 1), { ...slice([2], 1), samples: undefined }])).to.throw(/keepSamples/);
    });
  });

  describe('loopback round trip', function () {
    it('is the median of real round trips through an echo process, which is gone afterwards', async function () {
      this.timeout(10_000);
      const before = await childCount();
      const ms = await loopbackRoundTripMs(50);
      expect(ms).to.be.a('number').greaterThan(0).and.lessThan(1000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await childCount()).to.equal(before);
    });

    it('reads the guest halt polling setting, and is null where there is none to read', async function () {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-haltpoll-'));
      try {
        const file = path.join(dir, 'guest_halt_poll_ns');
        await writeFile(file, '200000\n');
        expect(await guestHaltPollNs(file)).to.equal(200000);
        await writeFile(file, '0\n');
        expect(await guestHaltPollNs(file)).to.equal(0);
        await writeFile(file, 'garbage\n');
        expect(await guestHaltPollNs(file)).to.equal(null);
        expect(await guestHaltPollNs(path.join(dir, 'absent'))).to.equal(null);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('reply parsers', function () {
    function collect(make: (cb: (kind: ReplyKind, line: string) => void) => { push(chunk: Buffer): void }, chunks: Buffer[]) {
      const replies: string[] = [];
      const parser = make((kind, line) => replies.push(line ? `${kind} ${line}` : kind));
      for (const chunk of chunks) parser.push(chunk);
      return replies;
    }

    it('text: one reply per get or set, whatever the chunking, data containing END lines included', function () {
      const value = 'END\r\nSTORED\r\n';
      const stream = Buffer.from(
        `VALUE bench:1 0 ${value.length}\r\n${value}\r\nEND\r\n` +
          'END\r\n' +
          'STORED\r\n' +
          'VALUE a 1 2 77\r\nxy\r\nVALUE b 0 0\r\n\r\nEND\r\n' +
          'SERVER_ERROR out of memory\r\n' +
          'VERSION 1.6.18\r\n',
        'latin1',
      );
      const expected = ['ok END', 'miss END', 'ok STORED', 'ok END', 'error SERVER_ERROR out of memory', 'ok VERSION 1.6.18'];
      for (const { name, chunks } of feedings(stream)) {
        expect(collect((cb) => new TextReplyParser(cb), chunks), name).to.deep.equal(expected);
      }
    });

    it('binary: one reply per packet, key-not-found on a get is a miss, other statuses errors', function () {
      const reply = (opcode: number, status: number, body = '') => binaryResponse({ opcode, value: body, status });
      const stream = Buffer.concat([
        binaryResponse({ opcode: Opcode.GET, extras: Buffer.alloc(4), value: 'v'.repeat(1024) }),
        reply(Opcode.GET, 1, 'Not found'),
        reply(Opcode.SET, 0),
        reply(Opcode.SET, 0x82, 'Out of memory'),
      ]);
      const expected = ['ok', 'miss', 'ok', 'error binary status 0x0082 Out of memory'];
      for (const { name, chunks } of feedings(stream)) {
        if (name.startsWith('split at') && Number(name.slice(9)) % 7 !== 0) continue; // every 7th offset is plenty
        expect(collect((cb) => new BinaryReplyParser(cb), chunks), name).to.deep.equal(expected);
      }
    });

    it('requests are the bytes memcached expects', function () {
      const value = Buffer.from('hello');
      expect(textGet('k1').toString()).to.equal('get k1\r\n');
      expect(textSet('k1', value).toString()).to.equal('set k1 0 0 5\r\nhello\r\n');
      expect(binaryGet('k1', 7).equals(binaryRequest({ opcode: Opcode.GET, key: 'k1', opaque: 7 }))).to.equal(true);
      expect(binarySet('k1', value, 9).equals(binaryRequest({ opcode: Opcode.SET, key: 'k1', extras: storeExtras(0, 0), value, opaque: 9 }))).to.equal(true);
    });
  });
});
