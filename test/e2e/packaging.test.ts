/**
 * The package as a user installs it: `npm pack`, `npm install -g` into a scratch prefix, and the
 * installed `memgate` serving; the systemd unit in contrib/ checked by systemd-analyze.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { access, copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { findFreePort, freshTableName, getTestDatabaseUrl } from '../helpers/database.js';
import { RawConnection } from '../helpers/raw-connection.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('e2e: packaging', function () {
  this.timeout(240_000);
  let dir: string;
  let prefix: string;
  let memgate: string;
  let version: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-pack-'));
    prefix = path.join(dir, 'prefix');
    version = (JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    // The test run has just built dist/; prepack would build it again (tsc over tests and benches).
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
    const tarball = (await readdir(dir)).find((name) => /^memgate-.*\.tgz$/.test(name));
    expect(tarball, 'npm pack wrote memgate-<version>.tgz').to.be.a('string');
    // --prefer-offline: the dependencies usually come from npm's cache, the registry otherwise.
    await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', path.join(dir, tarball!)], {
      cwd: dir, env: { ...process.env, npm_config_loglevel: 'error' },
    });
    memgate = path.join(prefix, 'bin', 'memgate');
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('puts a memgate command in the prefix that prints its help', async () => {
    await access(memgate);
    const help = await run(memgate, ['--help'], { cwd: dir });
    expect(help.stdout).to.match(/^Usage: memgate <serve\|schema\|sweep>/).and.include('--workers').and.include('--db-ssl-mode');
  });

  it('the installed memgate serve answers version, set and get, and stops on SIGTERM', async () => {
    const port = await findFreePort();
    const table = freshTableName('pack');
    const child = spawn(memgate, ['serve', '--port', String(port), '--db-url', await getTestDatabaseUrl(), '--table', table], {
      cwd: dir, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(`the installed memgate listening on ${port}`, async () => {
        if (child.exitCode !== null) throw new Error(`memgate exited: ${output}`);
        return RawConnection.canConnect(port);
      }, 30_000, 100);
      const client = await RawConnection.open(port);
      try {
        expect(await client.request('version\r\n')).to.equal(`VERSION 1.6.18-memgate-${version}\r\n`);
        expect(await client.request('set packaged 0 0 3\r\nyes\r\n')).to.equal('STORED\r\n');
        expect(await client.request('get packaged\r\n')).to.equal('VALUE packaged 0 3\r\nyes\r\nEND\r\n');
      } finally {
        await client.close();
      }
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, output).to.equal(0);
  });

  it('ships the systemd unit and its settings file', async () => {
    const packaged = path.join(prefix, 'lib', 'node_modules', 'memgate', 'contrib');
    expect(await readdir(packaged)).to.include.members(['memgate.service', 'memgate.env']);
  });

  it('systemd-analyze verify accepts contrib/memgate.service', async function () {
    if (spawnSync('systemd-analyze', ['--version']).error) {
      // The only case this check is left out: nothing here can verify a unit.
      console.log('      systemd-analyze is not installed (Debian package systemd): unit not verified');
      this.skip();
    }
    // verify checks that ExecStart's program exists: point it at the one just installed.
    const unit = (await readFile(path.join(ROOT, 'contrib', 'memgate.service'), 'utf8'))
      .replace(/^ExecStart=\/usr\/bin\/memgate /m, `ExecStart=${memgate} `)
      .replace(/^EnvironmentFile=.*$/m, `EnvironmentFile=${path.join(dir, 'memgate.env')}`);
    await copyFile(path.join(ROOT, 'contrib', 'memgate.env'), path.join(dir, 'memgate.env'));
    const unitFile = path.join(dir, 'memgate.service');
    await writeFile(unitFile, unit);
    const verified = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
    // Lines about other units on this machine (e.g. a container's own) are not ours.
    const ours = verified.stderr.split('\n').filter((line) => line.includes('memgate.service'));
    expect(ours, verified.stderr).to.deep.equal([]);
    expect(verified.status, verified.stderr).to.equal(0);
  });
});
