import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { missingMariadbMessage } from '../../../src/embedded/binaries.js';
import { startEmbeddedMariadb, type EmbeddedMariadb } from '../../../src/embedded/mariadb.js';
import { isAlive, readPidFile } from '../../../src/embedded/process-utils.js';
import { findFreePort, freshTableName, getTestDatabaseUrl, testLogger } from '../../helpers/database.js';

const projectRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const moduleUrl = new URL('../../../src/embedded/mariadb.js', import.meta.url).href;

async function query<T>(url: string, sql: string, values: unknown[] = []): Promise<T> {
  const connection = await mysql.createConnection(url);
  try {
    const [rows] = await connection.query(sql, values);
    return rows as T;
  } finally {
    await connection.end();
  }
}

async function start(dataDir: string): Promise<EmbeddedMariadb> {
  return startEmbeddedMariadb({ dataDir, port: await findFreePort(), database: 'memgate', logger: testLogger() });
}

async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

describe('embedded MariaDB', function () {
  this.timeout(60_000);
  let dataDir: string;
  let running: EmbeddedMariadb | undefined;
  let firstPassword: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'memgate-embedded-'));
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('initialises a fresh data dir and serves SQL over 127.0.0.1', async () => {
    running = await start(dataDir);
    const url = new URL(running.url);
    expect(url.protocol).to.equal('mysql:');
    expect(url.hostname).to.equal('127.0.0.1');
    expect(url.username).to.equal('memgate');
    expect(url.pathname).to.equal('/memgate');
    firstPassword = url.password;
    expect(firstPassword).to.match(/^[0-9a-f]{32,}$/);

    await query(running.url, 'CREATE TABLE survivors (k VARCHAR(250) PRIMARY KEY, v BLOB) ENGINE=InnoDB');
    await query(running.url, 'INSERT INTO survivors VALUES (?, ?)', ['answer', Buffer.from('42')]);
    const rows = await query<Array<{ v: Buffer }>>(running.url, 'SELECT v FROM survivors WHERE k = ?', ['answer']);
    expect(rows[0]?.v.toString()).to.equal('42');

    const settings = await query<Array<Record<string, unknown>>>(
      running.url,
      'SELECT @@tx_isolation AS isolation, @@max_allowed_packet AS packet, @@innodb_flush_log_at_trx_commit AS flush, @@bind_address AS bind',
    );
    expect(settings[0]).to.include({ isolation: 'READ-COMMITTED', bind: '127.0.0.1' });
    expect(Number(settings[0]?.packet)).to.equal(64 * 1024 * 1024);
    expect(Number(settings[0]?.flush)).to.equal(1);

    const passwordFile = await stat(path.join(dataDir, 'password'));
    expect(passwordFile.mode & 0o777).to.equal(0o600);
  });

  it('stops idempotently and refuses connections afterwards', async () => {
    const server = await start(dataDir);
    await server.stop();
    await server.stop();
    const refusal = async (url: string): Promise<string | undefined> => {
      try {
        await query(url, 'SELECT 1');
        return undefined;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code;
      }
    };
    // The gateway's way in (the socket, which the server removes) and SQL tools' (the port).
    expect(new URL(server.url).searchParams.get('socketPath')).to.be.a('string');
    expect(await refusal(server.url)).to.equal('ENOENT');
    const tcp = new URL(server.url);
    tcp.search = '';
    expect(await refusal(tcp.toString())).to.equal('ECONNREFUSED');
  });

  it('keeps data and password across a restart on the same dir', async () => {
    running = await start(dataDir);
    expect(new URL(running.url).password).to.equal(firstPassword);
    const rows = await query<Array<{ v: Buffer }>>(running.url, 'SELECT v FROM survivors WHERE k = ?', ['answer']);
    expect(rows[0]?.v.toString()).to.equal('42');
    // A second start while we own it shares our server rather than fighting over InnoDB's locks.
    const second = await start(dataDir);
    expect(new URL(second.url).port).to.equal(new URL(running.url).port);
    await second.stop();
    await query(running.url, 'SELECT 1');
  });

  it('ignores a stale pid file left by a dead process', async () => {
    const dead = spawnSync('true').pid;
    await writeFile(path.join(dataDir, 'mariadbd.pid'), `${dead}\n`);
    running = await start(dataDir);
    await query(running.url, 'SELECT 1');
  });

  it('takes its server down when the owning process is SIGKILLed, and restarts cleanly', async () => {
    const port = await findFreePort();
    const script = `
      import winston from 'winston';
      import { startEmbeddedMariadb } from ${JSON.stringify(moduleUrl)};
      const logger = winston.createLogger({ transports: [new winston.transports.Console({ silent: true })] });
      const db = await startEmbeddedMariadb({ dataDir: ${JSON.stringify(dataDir)}, port: ${port}, database: 'memgate', logger });
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);
    `;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        owner.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('ready')) resolve();
        });
        owner.on('exit', (code) => reject(new Error(`owner exited early with code ${code}`)));
      });
      const serverPid = await readPidFile(path.join(dataDir, 'mariadbd.pid'));
      expect(serverPid).to.be.a('number');
      owner.kill('SIGKILL');
      expect(await waitUntilGone(serverPid as number, 30_000), 'server outlived its owner').to.equal(true);
    } finally {
      owner.kill('SIGKILL');
    }
    running = await start(dataDir);
    const rows = await query<Array<{ v: Buffer }>>(running.url, 'SELECT v FROM survivors WHERE k = ?', ['answer']);
    expect(rows[0]?.v.toString()).to.equal('42');
  });

  it('tells a non-root user the exact command to install MariaDB', () => {
    const message = missingMariadbMessage(false);
    expect(message).to.include('sudo apt-get install -y mariadb-server');
    expect(message).to.include('--db-url');
    expect(message).to.include('MEMGATE_DB_URL');
  });
});

describe('test database helper', function () {
  this.timeout(60_000);

  it('hands out one working database per run and unique table names', async () => {
    const url = await getTestDatabaseUrl();
    expect(await getTestDatabaseUrl()).to.equal(url);
    const table = freshTableName('helper');
    expect(table).to.match(/^helper_\d+_[0-9a-f]+_\d+$/);
    expect(freshTableName('helper')).to.not.equal(table);
    await query(url, `CREATE TABLE ${table} (id INT PRIMARY KEY) ENGINE=InnoDB`);
    await query(url, `DROP TABLE ${table}`);
  });
});
