/**
 * Real clients' stats calls (dalli 3.0.6, pymemcache, pylibmc; Debian ruby-dalli,
 * python3-pymemcache, python3-pylibmc) get the same shape of answer from memgate as from
 * memcached 1.6.18: the same names (memgate adds its own to the general group; slab class
 * numbers aside) with values of the same kind. dalli's own "support stats" checks pass, and
 * pymemcache's cache_memlimit succeeds.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startMemcached, type MemcachedServer } from '../helpers/memcached-server.js';

const CLIENTS = fileURLToPath(new URL('../../../test/clients/', import.meta.url));
/** Debian's interpreter: the python3 first on PATH may be another without the Debian modules. */
const PYTHON = '/usr/bin/python3';

type Shape = Record<string, string>;

function run(command: string, args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: CLIENTS, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

function classless(shape: Shape): Shape {
  return Object.fromEntries(Object.entries(shape).map(([name, kind]) => [name.replace(/^items:\d+:/, 'items:N:').replace(/^\d+:/, 'N:'), kind]));
}

/** memgate answers every name memcached does, with a value of the same kind. */
function expectSameShape(where: string, expected: Shape, actual: Shape, group: string): void {
  if (group === 'general') {
    for (const [name, kind] of Object.entries(expected)) expect(actual[name], `${where}: ${name}`).to.equal(kind);
  } else {
    expect(classless(actual), where).to.deep.equal(classless(expected));
  }
}

describe('e2e: stats through dalli, pymemcache and pylibmc', function () {
  this.timeout(120_000);
  let memcached: MemcachedServer;
  let gateway: RunningGateway;

  before(async () => {
    [memcached, gateway] = await Promise.all([startMemcached(), startGateway()]);
  });
  after(async () => {
    await Promise.all([memcached?.stop(), gateway?.stop()]);
  });

  it('dalli: stats, stats(:items), stats(:slabs) and reset_stats', async () => {
    type Dalli = Record<'general' | 'items' | 'slabs', Shape> & { checks: Record<string, boolean> };
    const expected = await run('ruby', ['dalli-stats.rb', `${memcached.host}:${memcached.port}`]) as Dalli;
    const actual = await run('ruby', ['dalli-stats.rb', `${gateway.host}:${gateway.port}`]) as Dalli;
    expect(expected.checks, 'memcached itself').to.deep.equal({ general: true, items: true, slabs: true, reset: true, reset_clears: true });
    expect(actual.checks).to.deep.equal(expected.checks);
    for (const group of ['general', 'items', 'slabs'] as const) expectSameShape(`dalli ${group}`, expected[group], actual[group], group);
  });

  it('pymemcache and pylibmc: stats groups, and pymemcache\'s cache_memlimit', async () => {
    type Python = Record<'pymemcache' | 'pylibmc', Record<string, Shape>> & { pymemcache_cache_memlimit: unknown };
    const expected = await run(PYTHON, ['python-stats.py', memcached.host, String(memcached.port)]) as Python;
    const actual = await run(PYTHON, ['python-stats.py', gateway.host, String(gateway.port)]) as Python;
    expect(expected.pymemcache_cache_memlimit).to.equal(true);
    expect(actual.pymemcache_cache_memlimit).to.equal(true);
    for (const client of ['pymemcache', 'pylibmc'] as const) {
      for (const group of ['general', 'items', 'slabs']) {
        expect(Object.keys(expected[client][group]!), `memcached ${client} ${group}`).to.have.length.greaterThan(2);
        expectSameShape(`${client} ${group}`, expected[client][group]!, actual[client][group]!, group);
      }
    }
  });
});
