import { expect } from 'chai';
import { parseDatabaseUrls } from '../../../src/store/db-url.js';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';
import { configError, configFiles } from '../../helpers/config-files.js';

describe('loadConfig', () => {
  const file = configFiles();

  it('has the documented defaults', () => {
    const config = loadConfig({ env: {} });
    expect(config.listen).to.include({ host: '127.0.0.1', port: 11211 });
    expect(config.db).to.include({ url: '', table: 'kv', engine: 'innodb' });
    expect(config.items.sizeMax).to.equal(1048576);
    expect(config.flushAll.enabled).to.equal(true);
  });

  it('layers file < environment < flags < overrides', () => {
    const config = loadConfig({
      file: file({ listen: { port: 1000, host: '127.0.0.2' }, db: { table: 'from_file', poolSize: 3 } }),
      env: { MEMGATE_PORT: '2000', MEMGATE_DB_TABLE: 'from_env' },
      argv: ['--port', '3000'],
      overrides: { db: { poolSize: 7 } },
    });
    expect(config.listen.port).to.equal(3000);
    expect(config.listen.host).to.equal('127.0.0.2');
    expect(config.db.table).to.equal('from_env');
    expect(config.db.poolSize).to.equal(7);
  });

  it('accepts --db-url and sizes written like memcached -I', () => {
    const config = loadConfig({ env: {}, argv: ['--db-url', 'mysql://u:p@db:3307/items', '--item-size-max=2m', '--flush-all-enabled', 'false'] });
    expect(config.db.url).to.equal('mysql://u:p@db:3307/items');
    expect(config.items.sizeMax).to.equal(2 * 1024 * 1024);
    expect(config.flushAll.enabled).to.equal(false);
  });

  it('takes several database nodes as comma-separated URLs, in order, with the read policy', () => {
    const config = loadConfig({
      env: { MEMGATE_DB_READS: 'spread' },
      argv: ['--db-url', 'mysql://u:p@h1:3306/db, mysql://u:p@h2:3307/db,mysql://u:p@h3/db', '--db-wsrep-sync-wait', '0'],
    });
    expect(parseDatabaseUrls(config.db.url).map((e) => `${e.host}:${e.port}`)).to.deep.equal(['h1:3306', 'h2:3307', 'h3:3306']);
    expect(config.db.reads).to.equal('spread');
    expect(config.db.wsrepSyncWait).to.equal(0);
    expect(loadConfig({ env: {} }).db).to.include({ reads: 'writer', wsrepSyncWait: 1 });
  });

  it('takes a node\'s unix socket from ?socketPath=, and refuses a relative one naming the setting', () => {
    const config = loadConfig({ env: {}, argv: ['--db-url', 'mysql://u:p@localhost/db?socketPath=%2Frun%2Fmysqld%2Fmysqld.sock'] });
    expect(parseDatabaseUrls(config.db.url)[0]).to.include({ socketPath: '/run/mysqld/mysqld.sock', database: 'db' });
    expect(parseDatabaseUrls('mysql://u:p@h1/db')[0]!.socketPath).to.equal(undefined);
    rejects({ env: {}, argv: ['--db-url', 'mysql://u:p@localhost/db?socketPath=mysqld.sock'] }, /db\.url: socketPath=mysqld\.sock must be an absolute path/);
  });

  it('names the bad node of a list, without its password', () => {
    rejects({ env: {}, argv: ['--db-url', 'mysql://u:p@h1/db,postgres://u:s3cr3t@h2/db'] }, /db\.url.*node 2 of 2/);
    try {
      loadConfig({ env: {}, argv: ['--db-url', 'mysql://u:p@h1/db,mysql://u:s3cr3t@h2:3306/'] });
      expect.fail('should have thrown');
    } catch (error) {
      expect((error as Error).message).to.match(/node 2 of 2/);
      expect((error as Error).message).to.not.include('s3cr3t');
    }
    rejects({ env: {}, argv: ['--db-reads', 'random'] }, /db\.reads/);
  });

  it('has the expiry sweeper off in serve by default, and takes its settings as flags or environment', () => {
    expect(loadConfig({ env: {} }).sweeper).to.deep.equal({ interval: 0, batchSize: 1000, pauseMs: 100, budget: 0 });
    const config = loadConfig({
      env: { MEMGATE_SWEEP_INTERVAL: '300' },
      argv: ['--sweep-batch-size', '250', '--sweep-pause-ms', '0', '--sweep-budget=60'],
    });
    expect(config.sweeper).to.deep.equal({ interval: 300, batchSize: 250, pauseMs: 0, budget: 60 });
  });

  const rejects = (input: Parameters<typeof loadConfig>[0], pattern: RegExp) => {
    expect(() => loadConfig(input)).to.throw(ConfigError, pattern);
  };

  it('names the setting when a value is invalid', () => {
    rejects({ env: {}, argv: ['--port', '99999'] }, /listen\.port/);
    rejects({ env: { MEMGATE_PORT: 'abc' } }, /listen\.port/);
    rejects({ env: {}, argv: ['--db-url', 'nonsense'] }, /db\.url/);
    rejects({ env: {}, argv: ['--db-url', 'postgres://u@h/d'] }, /db\.url/);
    rejects({ env: {}, argv: ['--table', 'items; DROP TABLE x'] }, /db\.table/);
    rejects({ env: {}, argv: ['--item-size-max', '64m'] }, /items\.sizeMax/);
    rejects({ env: {}, argv: ['--engine', 'myisam'] }, /db\.engine/);
    rejects({ env: {}, argv: ['--pool-size', '0'] }, /db\.poolSize/);
    rejects({ env: {}, argv: ['--max-queued-requests', '0'] }, /listen\.maxQueuedRequests/);
    rejects({ env: {}, argv: ['--sweep-batch-size', '0'] }, /sweeper\.batchSize/);
    rejects({ env: {}, argv: ['--sweep-interval', '-5'] }, /sweeper\.interval/);
    rejects({ env: {}, argv: ['--sweep-pause-ms', 'soon'] }, /sweeper\.pauseMs/);
  });

  it('rejects unknown flags and unknown keys in files', () => {
    rejects({ env: {}, argv: ['--bogus', '1'] }, /--bogus/);
    rejects({ env: {}, file: file({ listen: { prot: 1 } }) }, /listen\.prot/);
  });

  it('never puts the database password in an error message', () => {
    try {
      loadConfig({ env: {}, argv: ['--db-url', 'mysql://u:s3cr3t-pw@h:3306/', '--port', 'x'] });
      expect.fail('should have thrown');
    } catch (error) {
      expect((error as Error).message).to.not.include('s3cr3t-pw');
    }
  });

  const message = configError;

  it('names a bad value where it came from, with the setting\'s other two names', () => {
    expect(message({ env: {}, argv: ['--port', 'abc'] })).to.equal('--port abc: not a port (0-65535) [listen.port, MEMGATE_PORT]');
    expect(message({ env: {}, argv: ['--port=70000'] })).to.equal('--port 70000: not a port (0-65535) [listen.port, MEMGATE_PORT]');
    expect(message({ env: { MEMGATE_PORT: 'abc' } })).to.equal('MEMGATE_PORT=abc: not a port (0-65535) [listen.port, --port]');
    const bad = file({ listen: { port: 'abc' } });
    expect(message({ env: {}, file: bad })).to.equal(`listen.port in ${bad}: not a port (0-65535) [--port, MEMGATE_PORT]`);
    expect(message({ env: {}, argv: ['--table', 'a b'] })).to.match(/^--table "a b": not a plain identifier.* \[db\.table, MEMGATE_DB_TABLE\]$/);
    // memgate adds _locks for the session lock table, which must stay within MySQL's 64.
    expect(message({ env: {}, argv: ['--table', 't'.repeat(59)] })).to.match(/: not a plain identifier.*at most 58 characters/);
    expect(loadConfig({ env: {}, argv: ['--table', 't'.repeat(58)] }).db.table).to.equal('t'.repeat(58));
    expect(message({ env: {}, argv: ['--pool-size'] })).to.equal('--pool-size needs a value [db.poolSize, MEMGATE_DB_POOL_SIZE]');
    const unknownKey = file({ listen: { prot: 1 } });
    expect(message({ env: {}, file: unknownKey })).to.equal(`listen.prot in ${unknownKey}: not a setting (memgate --help lists them)`);
  });

  it('suggests the nearest flag for an unknown one and points at --help', () => {
    expect(message({ env: {}, argv: ['--prot', '1'] })).to.equal('unknown option --prot; did you mean --port? (memgate --help lists the options)');
    expect(message({ env: {}, argv: ['--frobnicate'] })).to.equal('unknown option --frobnicate (memgate --help lists the options)');
    expect(message({ env: {}, argv: ['11311'] })).to.match(/^unexpected argument '11311'/);
  });

  it('takes true/false and 1/0 for a boolean, from a flag, the environment or a file, and refuses anything else', () => {
    const enabled = (input: Parameters<typeof loadConfig>[0]) => loadConfig({ env: {}, ...input }).flushAll.enabled;
    expect(enabled({ argv: ['--flush-all-enabled', 'false'] })).to.equal(false);
    expect(enabled({ argv: ['--flush-all-enabled=FALSE'] })).to.equal(false);
    expect(enabled({ argv: ['--flush-all-enabled', '0'] })).to.equal(false);
    expect(enabled({ argv: ['--flush-all-enabled', '1'] })).to.equal(true);
    expect(enabled({ env: { MEMGATE_FLUSH_ALL_ENABLED: 'false' } })).to.equal(false);
    expect(enabled({ env: { MEMGATE_FLUSH_ALL_ENABLED: 'true' } })).to.equal(true);
    expect(enabled({ file: file({ flushAll: { enabled: false } }) })).to.equal(false);
    // a bare boolean flag turns the setting on
    expect(loadConfig({ env: {}, argv: ['--db-wait-at-start', '--port', '1'] }).db.waitAtStart).to.equal(true);
    expect(loadConfig({ env: {} }).db.waitAtStart).to.equal(false);

    expect(message({ env: {}, argv: ['--flush-all-enabled', 'maybe'] }))
      .to.equal('--flush-all-enabled maybe: not true or false [flushAll.enabled, MEMGATE_FLUSH_ALL_ENABLED]');
    expect(message({ env: { MEMGATE_COALESCE_ENABLED: 'yes' } }))
      .to.equal('MEMGATE_COALESCE_ENABLED=yes: not true or false [coalesce.enabled, --coalesce-enabled]');
    expect(message({ env: { MEMGATE_DB_WAIT_AT_START: '' } }))
      .to.equal('MEMGATE_DB_WAIT_AT_START="": not true or false [db.waitAtStart, --db-wait-at-start]');
    const bad = file({ flushAll: { enabled: 'maybe' } });
    expect(message({ env: {}, file: bad })).to.equal(`flushAll.enabled in ${bad}: not true or false [--flush-all-enabled, MEMGATE_FLUSH_ALL_ENABLED]`);
  });

  it('masks the password when it shows a database URL it refuses', () => {
    const text = message({ env: {}, argv: ['--db-url', 'mysql://u:s3cr3t-pw@h/db,postgres://u:s3cr3t-pw@h2/db'] });
    expect(text).to.match(/^--db-url mysql:\/\/u:\*\*\*@h\/db,postgres:\/\/u:\*\*\*@h2\/db: db\.url \(node 2 of 2\)/);
    expect(text).to.not.include('s3cr3t-pw');
  });

  it('loads config/example.json, which sets the commonly changed settings', () => {
    const example = new URL('../../../../config/example.json', import.meta.url).pathname;
    const config = loadConfig({ env: {}, file: example });
    expect(config.db.url).to.match(/^mysql:\/\//);
    expect(config.items.sizeMax).to.equal(1048576);
    expect(config.db.waitAtStart).to.equal(false);
  });
});

