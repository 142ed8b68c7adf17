import type { ServerStats } from './server-stats.js';

/** The one slab class the item table is presented as. */
const CLASS = 1;

export interface SlabReportContext {
  stats: ServerStats;
  /** the item table's estimated live rows and their bytes (item-estimate.ts) */
  items: { rows: number; bytes: number };
  itemSizeMax: number;
}

/**
 * `stats items`, as memcached 1.6.18 names its fields, with the whole table as slab class 1:
 * number is the estimated rows, mem_requested their bytes. The class is there while the
 * table is, even when the estimate reads 0, so clients that look for items:N:number find it.
 * memgate has no LRU, evicts nothing and reclaims nothing: those fields are 0.
 */
export function itemsStats(ctx: SlabReportContext): Array<[string, string]> {
  const { rows, bytes } = ctx.items;
  const fields: Array<[string, number]> = [
    ['number', rows], ['number_hot', 0], ['number_warm', 0], ['number_cold', rows],
    ['age_hot', 0], ['age_warm', 0], ['age', 0], ['mem_requested', bytes],
    ...['evicted', 'evicted_nonzero', 'evicted_time', 'outofmemory', 'tailrepairs', 'reclaimed', 'expired_unfetched',
      'evicted_unfetched', 'evicted_active', 'crawler_reclaimed', 'crawler_items_checked', 'lrutail_reflocked',
      'moves_to_cold', 'moves_to_warm', 'moves_within_lru', 'direct_reclaims', 'hits_to_hot', 'hits_to_warm',
      'hits_to_cold', 'hits_to_temp'].map((name): [string, number] => [name, 0]),
  ];
  return fields.map(([name, value]) => [`items:${CLASS}:${name}`, String(value)]);
}

/**
 * `stats slabs` with the table as slab class 1: a chunk is one row of up to items.sizeMax
 * bytes and every row is a used chunk on a page of its own; total_malloced is the table's
 * data bytes. The hit counters are this gateway's, as in the general stats.
 */
export function slabsStats(ctx: SlabReportContext): Array<[string, string]> {
  const { rows, bytes } = ctx.items;
  const c = ctx.stats.counters;
  const fields: Array<[string, number]> = [
    ['chunk_size', ctx.itemSizeMax], ['chunks_per_page', 1], ['total_pages', rows], ['total_chunks', rows],
    ['used_chunks', rows], ['free_chunks', 0], ['free_chunks_end', 0],
    ['get_hits', c.get_hits], ['cmd_set', c.cmd_set], ['delete_hits', c.delete_hits], ['incr_hits', c.incr_hits],
    ['decr_hits', c.decr_hits], ['cas_hits', c.cas_hits], ['cas_badval', c.cas_badval], ['touch_hits', c.touch_hits],
  ];
  return [
    ...fields.map(([name, value]): [string, string] => [`${CLASS}:${name}`, String(value)]),
    ['active_slabs', '1'],
    ['total_malloced', String(bytes)],
  ];
}
