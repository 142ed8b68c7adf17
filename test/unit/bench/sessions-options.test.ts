/**
 * The session benchmark's settings and how it reaches each store: BENCH_SESSIONS_* parsing,
 * the workloads and session ids of a run, and the PHP settings per store.
 */
import { expect } from 'chai';
import { sessionIds } from '../../../bench/sessions/cells.js';
import { DEFAULT_OPTIONS, estimateSeconds, optionsFromEnv, workloadsOf } from '../../../bench/sessions/options.js';
import { pdoEndpoint } from '../../../bench/sessions/servers.js';
import { COMMON_SETTINGS, phpIniArgs, storeAccess, usesMariadb, type StoreEndpoints } from '../../../bench/sessions/stores.js';
import { lastJsonLine } from '../../../bench/sessions/workers.js';

describe('bench sessions: settings and stores', function () {
  describe('options from BENCH_SESSIONS_* variables', function () {
    it('takes seconds, stores, processes and ids, and leaves unset ones to the defaults', function () {
      const options = optionsFromEnv({
        BENCH_SESSIONS_SECONDS: '2', BENCH_SESSIONS_STORES: 'pdo, memgate', BENCH_SESSIONS_PROCS: '8', BENCH_SESSIONS_IDS: 'shared',
        BENCH_SESSIONS_JSON: '/tmp/x.json', BENCH_GATEWAY_ARGS: ' --coalesce  off ', BENCH_SESSIONS_WARMUP_SECONDS: '',
        BENCH_SESSIONS_TRANSPORT: 'unix',
      });
      expect(options).to.deep.equal({
        seconds: 2, stores: ['memgate', 'pdo'], procs: [8], ids: ['shared'], jsonPath: '/tmp/x.json', gatewayArgs: ['--coalesce', 'off'],
        transport: 'unix',
      });
      expect(DEFAULT_OPTIONS.transport).to.equal('tcp');
      expect(optionsFromEnv({})).to.deep.equal({});
    });

    it('defaults to 8 s cells over every store, 8 and 32 processes, distinct and shared ids', function () {
      expect(DEFAULT_OPTIONS.seconds).to.equal(8);
      expect(DEFAULT_OPTIONS.stores).to.deep.equal(['memcached', 'memgate', 'redis-always', 'redis-everysec', 'pdo']);
      expect(workloadsOf(DEFAULT_OPTIONS)).to.deep.equal([
        { procs: 8, ids: 'distinct' }, { procs: 8, ids: 'shared' }, { procs: 32, ids: 'distinct' }, { procs: 32, ids: 'shared' },
      ]);
      // The whole default run must stay under about 6 minutes, servers' start-up included.
      expect(estimateSeconds(DEFAULT_OPTIONS)).to.be.at.most(300);
    });

    it('refuses what it cannot use, naming the variable', function () {
      expect(() => optionsFromEnv({ BENCH_SESSIONS_STORES: 'memcached,files' })).to.throw(/BENCH_SESSIONS_STORES: files is not one of memcached, memgate/);
      expect(() => optionsFromEnv({ BENCH_SESSIONS_PROCS: '8,0' })).to.throw(/BENCH_SESSIONS_PROCS: not a positive whole number: 0/);
      expect(() => optionsFromEnv({ BENCH_SESSIONS_SECONDS: '0.1' })).to.throw(/BENCH_SESSIONS_SECONDS: expected a number >= 0.5, got 0.1/);
      expect(() => optionsFromEnv({ BENCH_SESSIONS_IDS: 'many' })).to.throw(/BENCH_SESSIONS_IDS/);
      expect(() => optionsFromEnv({ BENCH_SESSIONS_TRANSPORT: 'udp' })).to.throw(/BENCH_SESSIONS_TRANSPORT: udp is not one of tcp, unix/);
      expect(() => optionsFromEnv({ BENCH_SESSIONS_TRANSPORT: 'tcp,unix' })).to.throw(/BENCH_SESSIONS_TRANSPORT: one of tcp, unix per run/);
    });
  });

  describe('session ids', function () {
    it('gives each process ids of its own in the distinct workload', function () {
      const lists = sessionIds({ procs: 3, ids: 'distinct' }, 'abc1c4', 2);
      expect(lists).to.deep.equal([['abc1c4p0i0', 'abc1c4p0i1'], ['abc1c4p1i0', 'abc1c4p1i1'], ['abc1c4p2i0', 'abc1c4p2i1']]);
      expect(lists.flat().every((id) => /^[a-zA-Z0-9,-]+$/.test(id)), 'valid PHP session ids').to.equal(true);
    });

    it('gives every process the same one id in the shared workload', function () {
      expect(sessionIds({ procs: 3, ids: 'shared' }, 'abc1c5', 16)).to.deep.equal([['abc1c5shared'], ['abc1c5shared'], ['abc1c5shared']]);
    });
  });

  describe('stores', function () {
    const endpoints: StoreEndpoints = {
      memcached: '127.0.0.1:1001', memgate: '127.0.0.1:1002', redisAlways: '127.0.0.1:1003', redisEverysec: null,
      pdo: { dsn: 'mysql:host=127.0.0.1;port=3307;dbname=bench', user: 'memgate', password: 'secret', table: 'pdo_sessions' },
    };

    it('points memcached and memgate at php-memcached with its defaults, redis with locking asked for', function () {
      expect(storeAccess('memgate', endpoints)).to.deep.equal({
        settings: { ...COMMON_SETTINGS, 'session.save_handler': 'memcached', 'session.save_path': '127.0.0.1:1002' }, handler: 'native',
      });
      expect(storeAccess('memcached', endpoints).settings['session.save_path']).to.equal('127.0.0.1:1001');
      expect(storeAccess('redis-always', endpoints).settings).to.include({
        'session.save_handler': 'redis', 'session.save_path': 'tcp://127.0.0.1:1003', 'redis.session.locking_enabled': '1',
      });
      expect(() => storeAccess('redis-everysec', endpoints)).to.throw(/redis-everysec: its server was not started/);
    });

    it('gives each handler its own syntax for a unix socket', function () {
      const sockets: StoreEndpoints = { ...endpoints, memgate: '/tmp/b/memgate.sock', redisAlways: '/tmp/b/redis.sock' };
      expect(storeAccess('memgate', sockets).settings['session.save_path']).to.equal('/tmp/b/memgate.sock');
      expect(storeAccess('redis-always', sockets).settings['session.save_path']).to.equal('unix:///tmp/b/redis.sock');
    });

    it('runs PdoSessionHandler in the script, its password kept out of the arguments', function () {
      const access = storeAccess('pdo', endpoints);
      expect(access.handler).to.equal('pdo');
      expect(access.pdo).to.deep.equal({ dsn: 'mysql:host=127.0.0.1;port=3307;dbname=bench', user: 'memgate', table: 'pdo_sessions' });
      expect(JSON.stringify(access)).not.to.contain('secret');
      expect(usesMariadb('pdo') && usesMariadb('memgate')).to.equal(true);
      expect(usesMariadb('memcached') || usesMariadb('redis-always')).to.equal(false);
    });

    it('keeps the CLI from sending headers or collecting garbage in a timed view', function () {
      expect(COMMON_SETTINGS).to.include({ 'session.use_cookies': '0', 'session.cache_limiter': '', 'session.gc_probability': '0' });
      expect(phpIniArgs({ 'session.cache_limiter': '', a: '1' })).to.deep.equal(['-d', 'session.cache_limiter=', '-d', 'a=1']);
    });

    it('builds the PDO DSN from the database URL, decoding user and password', function () {
      expect(pdoEndpoint('mysql://memgate:p%40ss%2Fw@127.0.0.1:3307/bench', 't')).to.deep.equal({
        dsn: 'mysql:host=127.0.0.1;port=3307;dbname=bench', user: 'memgate', password: 'p@ss/w', table: 't',
      });
      expect(pdoEndpoint('mysql://m:p@127.0.0.1:3307/bench?socketPath=%2Ftmp%2Fdb.sock', 't').dsn).to.equal('mysql:unix_socket=/tmp/db.sock;dbname=bench');
    });
  });

  it('reads a worker\'s result from its last line, null when there is none', function () {
    expect(lastJsonLine('noise\n{"views":3}\n')).to.deep.equal({ views: 3 });
    expect(lastJsonLine('PHP Fatal error: x\n')).to.equal(null);
    expect(lastJsonLine('')).to.equal(null);
  });
});
