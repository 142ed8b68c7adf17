import { performance } from 'node:perf_hooks';
import type { DatabasePool } from '../store/pool.js';
import type { HistogramSeries } from './fast-histogram.js';

/**
 * The pool, with the time of each unit of database work observed: from the session being
 * handed over to the work's result, so waiting for a free connection is not counted.
 */
export function timedPool(pool: DatabasePool, seconds: HistogramSeries): DatabasePool {
  return {
    get down() {
      return pool.down;
    },
    get counters() {
      return pool.counters;
    },
    withConnection(fn, intent) {
      return pool.withConnection(async (connection) => {
        const started = performance.now();
        try {
          return await fn(connection);
        } finally {
          seconds.observe((performance.now() - started) / 1000);
        }
      }, intent);
    },
    health: () => pool.health(),
    close: () => pool.close(),
  };
}
