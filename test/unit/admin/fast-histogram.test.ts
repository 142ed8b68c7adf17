import { expect } from 'chai';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { FastHistogram } from '../../../src/admin/fast-histogram.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVED: Array<[string, number]> = [['get', 0.0005], ['get', 0.001], ['set', 0.05], ['get', 2], ['set', 0.01], ['get', 0.3]];

describe('FastHistogram', () => {
  it('exposes exactly what prom-client\'s Histogram exposes for the same observations', async () => {
    const plain = new Registry();
    const fast = new Registry();
    const reference = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['command'], buckets: BUCKETS, registers: [plain] });
    const ours = new FastHistogram({ name: 'h_seconds', help: 'h', labelName: 'command', buckets: BUCKETS, registers: [fast] });
    for (const [command, value] of OBSERVED) {
      reference.labels(command).observe(value);
      ours.child(command).observe(value);
    }
    expect(await fast.metrics()).to.equal(await plain.metrics());
    expect(await fast.getMetricsAsJSON()).to.deep.equal(await plain.getMetricsAsJSON());
  });

  it('exposes an unlabelled histogram at zero before its first observation, as prom-client does', async () => {
    const plain = new Registry();
    const fast = new Registry();
    new Histogram({ name: 'u_seconds', help: 'u', buckets: BUCKETS, registers: [plain] });
    const ours = new FastHistogram({ name: 'u_seconds', help: 'u', buckets: BUCKETS, registers: [fast] });
    expect(await fast.metrics()).to.equal(await plain.metrics());
    ours.child('').observe(0.02);
    expect(await fast.metrics()).to.match(/^u_seconds_bucket\{le="0.1"\} 1$/m);
    expect(await fast.metrics()).to.match(/^u_seconds_count 1$/m);
  });

  it('aggregates across processes like prom-client\'s (node:cluster workers)', async () => {
    const perWorker = await Promise.all([0, 1].map(async () => {
      const registry = new Registry();
      new FastHistogram({ name: 'w_seconds', help: 'w', labelName: 'command', buckets: BUCKETS, registers: [registry] }).child('get').observe(0.005);
      return registry.getMetricsAsJSON();
    }));
    const text = await AggregatorRegistry.aggregate(perWorker).metrics();
    expect(text).to.match(/^w_seconds_bucket\{le="0.01",command="get"\} 2$/m);
    expect(text).to.match(/^w_seconds_count\{command="get"\} 2$/m);
  });
});
