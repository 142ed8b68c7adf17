import { Histogram, type Registry } from 'prom-client';

/**
 * Upper bounds in seconds for the times of commands and of statements: a coalesced get takes
 * about 0.2 ms, a session lock wait up to 100 ms, a database timeout seconds.
 */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface HistogramSeries {
  observe(value: number): void;
}

class Series implements HistogramSeries {
  /** observations per bucket, not cumulative: counts[i] ≤ bounds[i], above bounds[i-1] */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    if (i < this.bounds.length) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A prom-client histogram with at most one label whose observe() is a bucket search and
 * three additions: prom-client's own observe hashes the label set and allocates on every
 * call, which is most of what a metric costs a request. The numbers are handed to
 * prom-client's registry as its Histogram hands them (getForPromString, which the registry
 * and get() read), so the exposition is prom-client's; a unit test holds the text identical
 * to a plain Histogram's for the same observations.
 */
export class FastHistogram extends Histogram<string> {
  private readonly bounds: readonly number[];
  private readonly label: string | null;
  private readonly about: { name: string; help: string };
  private readonly series = new Map<string, Series>();

  constructor(config: { name: string; help: string; buckets: number[]; labelName?: string; registers: Registry[] }) {
    super({
      name: config.name, help: config.help, buckets: config.buckets, registers: config.registers,
      labelNames: config.labelName ? [config.labelName] : [],
    });
    this.bounds = [...config.buckets].sort((a, b) => a - b);
    this.label = config.labelName ?? null;
    this.about = { name: config.name, help: config.help };
    // An unlabelled histogram is exported from the start, as prom-client's is.
    if (!this.label) this.child('');
  }

  /** The series of one label value, to keep and observe into; '' without a label. */
  child(labelValue: string): HistogramSeries {
    let series = this.series.get(labelValue);
    if (!series) {
      series = new Series(this.bounds);
      this.series.set(labelValue, series);
    }
    return series;
  }

  override reset(): void {
    // prom-client's constructor calls this before the fields of this class exist.
    if ((this.series as Map<string, Series> | undefined) === undefined) return;
    for (const series of this.series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }

  /** What prom-client's Histogram gives its registry, from this histogram's series. */
  async getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; values: unknown[]; aggregator: string }> {
    const { name, help } = this.about;
    const bucket = `${name}_bucket`;
    const values: unknown[] = [];
    for (const [labelValue, series] of this.series) {
      const sharedLabels = this.label ? { [this.label]: labelValue } : {};
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.counts[i]!;
        values.push({ labels: { le: bound }, sharedLabels, value: cumulative, metricName: bucket, exemplar: null });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels, value: series.count, metricName: bucket, exemplar: null },
        { labels: {}, sharedLabels, value: series.sum, metricName: `${name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels, value: series.count, metricName: `${name}_count`, exemplar: undefined },
      );
    }
    return { name, help, type: 'histogram', values, aggregator: 'sum' };
  }
}
