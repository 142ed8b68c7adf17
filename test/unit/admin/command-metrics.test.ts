import { expect } from 'chai';
import { Registry } from 'prom-client';
import { CommandMetrics, commandLabel } from '../../../src/admin/command-metrics.js';
import type { Request } from '../../../src/model/request.js';
import type { Response } from '../../../src/model/response.js';
import { parseMetrics } from '../../helpers/admin-http.js';

const key = Buffer.from('k');
const item = { key, value: Buffer.from('v'), flags: 0, cas: 1n };

async function samples(registry: Registry): Promise<Map<string, number>> {
  return parseMetrics(await registry.metrics());
}

describe('CommandMetrics', () => {
  it('names commands as clients know them', () => {
    expect(commandLabel({ kind: 'get', keys: [key], withCas: false })).to.equal('get');
    expect(commandLabel({ kind: 'get', keys: [key], withCas: true })).to.equal('gets');
    expect(commandLabel({ kind: 'get', keys: [key], withCas: false, touchExptime: 5 })).to.equal('gat');
    expect(commandLabel({ kind: 'get', keys: [key], withCas: true, touchExptime: 5 })).to.equal('gats');
    expect(commandLabel({ kind: 'arith', incr: false, key, delta: 1n, noreply: false } as Request)).to.equal('decr');
    expect(commandLabel({ kind: 'version' })).to.equal('version');
    expect(commandLabel({ kind: 'tooLarge', mode: 'append', key, noreply: false })).to.equal('append');
    expect(commandLabel({ kind: 'flush', delay: 0, noreply: false })).to.equal('flush_all');
  });

  it('counts outcomes per command (a get per key) and observes each request\'s time', async () => {
    const registry = new Registry();
    const metrics = new CommandMetrics(registry);
    const get: Request = { kind: 'get', keys: [key, key, key], withCas: false };
    const set = { kind: 'store', mode: 'set' } as Request;
    const responses: Response[] = [
      { kind: 'hits', items: [item, null, item], withCas: false },
      { kind: 'store', outcome: 'stored' },
      { kind: 'store', outcome: 'exists' },
      { kind: 'serverError', message: 'database unavailable' },
    ];
    metrics.record([get, set, set, set], responses, 0.002);
    metrics.record([get], [{ kind: 'hits', items: [null, null, null], withCas: false }], 0.5);
    const got = await samples(registry);
    expect(got.get('memgate_commands_total{command="get",outcome="hit"}')).to.equal(2);
    expect(got.get('memgate_commands_total{command="get",outcome="miss"}')).to.equal(4);
    expect(got.get('memgate_commands_total{command="set",outcome="stored"}')).to.equal(1);
    expect(got.get('memgate_commands_total{command="set",outcome="exists"}')).to.equal(1);
    expect(got.get('memgate_commands_total{command="set",outcome="error"}')).to.equal(1);
    expect(got.get('memgate_command_duration_seconds_count{command="get"}')).to.equal(2);
    expect(got.get('memgate_command_duration_seconds_count{command="set"}')).to.equal(3);
    expect(got.get('memgate_command_duration_seconds_bucket{le="0.0025",command="get"}')).to.equal(1);
    expect(got.get('memgate_command_duration_seconds_bucket{le="0.5",command="get"}')).to.equal(2);
    // a scrape reads the counts, it does not move them
    expect((await samples(registry)).get('memgate_commands_total{command="get",outcome="miss"}')).to.equal(4);
  });
});
