/**
 * php-memcached sessions through gateways started with --sasl-password-file: the right
 * memcached.sess_sasl_username/password works, a wrong password cannot start a session.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { freshTableName, getTestDatabaseUrl } from '../../helpers/database.js';
import { memcachedSettings, newSessionId, problemsOf, requirePhpExtensions, runPhp, startGateways, type GatewayPair } from './harness.js';
import { expectOk, manySessions, oneSharedSession, readSession } from './workloads.js';

describe('e2e: PHP sessions through gateways that require SASL', function () {
  this.timeout(60_000);
  let pair: GatewayPair;
  let dir: string;

  before(async function () {
    this.timeout(60_000);
    await requirePhpExtensions();
    dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-php-sasl-'));
    const passwords = path.join(dir, 'passwords');
    await writeFile(passwords, 'other:secret-of-other\nphpapp:s3cret-Pw\n', { mode: 0o600 });
    pair = await startGateways({ dbUrl: await getTestDatabaseUrl(), table: freshTableName('php_sasl'), extraArgs: ['--sasl-password-file', passwords] });
  });

  after(async () => {
    await pair?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('with the right user and password sessions work, also concurrently', async () => {
    const settings = memcachedSettings(pair.ports, { 'memcached.sess_sasl_username': 'phpapp', 'memcached.sess_sasl_password': 's3cret-Pw' });
    const sid = newSessionId('sasl');
    expectOk(await runPhp(settings, { action: 'incr', sid, marker: 'one' }), 'first request');
    expectOk(await runPhp(settings, { action: 'incr', sid, marker: 'two' }), 'second request');
    expect(await readSession(settings, sid)).to.deep.equal({ n: 2, markers: 'one,two,' });
    await oneSharedSession('sasl, one session', settings, 40);
    await manySessions('sasl', settings, 10, 3);
  });

  it('with a wrong password, or none, session_start() fails and nothing is stored', async () => {
    const good = memcachedSettings(pair.ports, { 'memcached.sess_sasl_username': 'phpapp', 'memcached.sess_sasl_password': 's3cret-Pw' });
    const sid = newSessionId('sasl');
    expectOk(await runPhp(good, { action: 'put', sid, data: { user: 'alice' } }), 'put');
    for (const [label, extra] of [
      ['wrong password', { 'memcached.sess_sasl_username': 'phpapp', 'memcached.sess_sasl_password': 'wrong' }],
      ['unknown user', { 'memcached.sess_sasl_username': 'nobody', 'memcached.sess_sasl_password': 's3cret-Pw' }],
      ['no credentials', {}],
    ] as const) {
      const run = await runPhp(memcachedSettings(pair.ports, extra), { action: 'incr', sid, marker: label });
      expect(run.result?.started, `${label}: ${problemsOf(run).join(' | ')}`).to.equal(false);
      expect(problemsOf(run).join('\n'), label).to.match(/AUTHENTICATION FAILURE/);
    }
    expect(await readSession(good, sid), 'untouched by the refused requests').to.deep.equal({ user: 'alice' });
  });
});
