import { Counter, type Registry } from 'prom-client';
import type { Request } from '../model/request.js';
import type { Response } from '../model/response.js';
import { FastHistogram, LATENCY_BUCKETS, type HistogramSeries } from './fast-histogram.js';

interface CommandSeries {
  /** outcome → how many, published to the counter at scrape time */
  outcomes: Map<string, number>;
  duration: HistogramSeries;
}

/**
 * memgate_commands_total{command,outcome} and memgate_command_duration_seconds{command}.
 * A reply only bumps numbers held per command: the counter reads them when scraped, and the
 * histogram's series of each command is found once (fast-histogram.ts); a request allocates
 * no label object.
 */
export class CommandMetrics {
  private readonly series = new Map<string, CommandSeries>();
  private readonly duration: FastHistogram;

  constructor(registry: Registry) {
    const series = this.series;
    this.duration = new FastHistogram({
      name: 'memgate_command_duration_seconds',
      help: 'Time from a request being run to its reply being ready, by command; a pipelined run of requests answered together counts each at the run\'s time.',
      labelName: 'command',
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    new Counter({
      name: 'memgate_commands_total',
      help: 'Commands answered, by command and outcome (hit, miss, stored, not_stored, exists, not_found, deleted, touched, ok, non_numeric, error); a get counts once per key.',
      labelNames: ['command', 'outcome'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [command, { outcomes }] of series) {
          for (const [outcome, value] of outcomes) this.inc({ command, outcome }, value);
        }
      },
    });
  }

  /** One run of requests and their responses, `seconds` from the run's start to its replies. */
  record(requests: readonly Request[], responses: readonly Response[], seconds: number): void {
    for (let i = 0; i < requests.length; i++) {
      const series = this.of(commandLabel(requests[i]!));
      series.duration.observe(seconds);
      countOutcomes(series.outcomes, responses[i]!);
    }
  }

  private of(command: string): CommandSeries {
    let series = this.series.get(command);
    if (!series) {
      series = { outcomes: new Map(), duration: this.duration.child(command) };
      this.series.set(command, series);
    }
    return series;
  }
}

/** The command as clients know it: get, gets, gat, gats, set, add, …; meta ms, md and ma as the store, delete and incr/decr they are. */
export function commandLabel(request: Request): string {
  switch (request.kind) {
    case 'get':
      return request.touchExptime === undefined ? (request.withCas ? 'gets' : 'get') : (request.withCas ? 'gats' : 'gat');
    case 'store':
    case 'tooLarge':
      return request.mode;
    case 'arith':
      return request.incr ? 'incr' : 'decr';
    case 'flush':
      return 'flush_all';
    case 'metaGet':
      return 'mg';
    case 'metaDebug':
      return 'me';
    default:
      return request.kind;
  }
}

function bump(outcomes: Map<string, number>, outcome: string, by = 1): void {
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + by);
}

function countOutcomes(outcomes: Map<string, number>, response: Response): void {
  switch (response.kind) {
    case 'hits': {
      let hits = 0;
      for (const item of response.items) if (item) hits++;
      if (hits > 0) bump(outcomes, 'hit', hits);
      if (hits < response.items.length) bump(outcomes, 'miss', response.items.length - hits);
      return;
    }
    case 'metaGet':
      return bump(outcomes, response.item ? 'hit' : 'miss');
    case 'store':
    case 'delete':
    case 'touch':
    case 'arith':
      return bump(outcomes, response.outcome);
    case 'clientError':
    case 'serverError':
    case 'tooLarge':
    case 'forbidden':
      return bump(outcomes, 'error');
    default:
      return bump(outcomes, 'ok');
  }
}
