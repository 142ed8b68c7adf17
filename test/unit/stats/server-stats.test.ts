import { expect } from 'chai';
import { ServerStats } from '../../../src/stats/server-stats.js';

describe('ServerStats', () => {
  it('stats reset zeroes its own counters and the connection totals, not the connections open', () => {
    const stats = new ServerStats();
    stats.count('cmd_get', 3);
    stats.currConnections = 2;
    stats.totalConnections = 5;
    stats.reset();
    expect(stats.counters.cmd_get).to.equal(0);
    expect(stats.totalConnections).to.equal(0);
    expect(stats.currConnections).to.equal(2);
  });

  it('reports counters kept elsewhere from the last reset on, while their owners go on counting', () => {
    const stats = new ServerStats();
    const owned = { db_failovers: 4, coalesce_read_keys: 10 };
    stats.trackExternal(() => Object.entries(owned));
    expect(stats.sinceReset('db_failovers', owned.db_failovers)).to.equal(4);

    stats.reset();
    expect(stats.sinceReset('db_failovers', owned.db_failovers)).to.equal(0);
    expect(stats.sinceReset('coalesce_read_keys', owned.coalesce_read_keys)).to.equal(0);

    owned.db_failovers += 1;
    owned.coalesce_read_keys += 7;
    expect(stats.sinceReset('db_failovers', owned.db_failovers)).to.equal(1);
    expect(stats.sinceReset('coalesce_read_keys', owned.coalesce_read_keys)).to.equal(7);

    // A second reset starts from the values of that moment, not from the first reset's.
    stats.reset();
    owned.db_failovers += 2;
    expect(stats.sinceReset('db_failovers', owned.db_failovers)).to.equal(2);
    // A counter nobody tracks is reported as it is.
    expect(stats.sinceReset('db_node_7_downs', 3)).to.equal(3);
  });

  it('keeps lifetime connection and item totals for metrics while stats reports them since the reset', () => {
    const stats = new ServerStats();
    stats.totalConnections++;
    stats.totalConnections++;
    stats.rejectedConnections++;
    stats.itemsStored += 3;
    stats.reset();
    stats.totalConnections++;
    stats.itemsStored++;
    expect({ total: stats.totalConnections, rejected: stats.rejectedConnections, items: stats.totalItems }).to.deep.equal({ total: 1, rejected: 0, items: 1 });
    expect({ accepted: stats.accepted, refused: stats.refused, stored: stats.itemsStored }).to.deep.equal({ accepted: 3, refused: 1, stored: 4 });
  });
});
