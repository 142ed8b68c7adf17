import { expect } from 'chai';
import { ServerStats } from '../../../src/stats/server-stats.js';
import { itemsStats, slabsStats } from '../../../src/stats/slab-report.js';

describe('stats items and stats slabs', () => {
  const stats = new ServerStats();
  stats.count('get_hits', 4);
  stats.count('cmd_set', 2);
  const ctx = { stats, items: { rows: 12, bytes: 16384 }, itemSizeMax: 1048576 };

  it('present the table as slab class 1: its rows and bytes', () => {
    const items = new Map(itemsStats(ctx));
    expect(items.get('items:1:number')).to.equal('12');
    expect(items.get('items:1:mem_requested')).to.equal('16384');
    expect(items.get('items:1:evicted')).to.equal('0');
    const slabs = new Map(slabsStats(ctx));
    expect(slabs.get('1:used_chunks')).to.equal('12');
    expect(slabs.get('1:chunk_size')).to.equal('1048576');
    expect(slabs.get('1:get_hits')).to.equal('4');
    expect(slabs.get('1:cmd_set')).to.equal('2');
    expect(slabs.get('active_slabs')).to.equal('1');
    expect(slabs.get('total_malloced')).to.equal('16384');
    expect(slabsStats(ctx).slice(-2).map(([name]) => name)).to.deep.equal(['active_slabs', 'total_malloced']);
  });

  it('keep the class while the estimate reads no rows, so clients find items:N:number', () => {
    const empty = { ...ctx, items: { rows: 0, bytes: 0 } };
    expect(new Map(itemsStats(empty)).get('items:1:number')).to.equal('0');
    expect(new Map(slabsStats(empty)).get('1:used_chunks')).to.equal('0');
  });
});
