/**
 * A real HAProxy (Debian haproxy) in mode tcp in front of memgate gateways, health-checking
 * each one's /readyz on its admin port, as docs/observability.md sets it up: a gateway killed
 * with SIGKILL leaves the rotation while clients go on being served, and a gateway whose
 * database is unreachable never gets a client. Gateways run as `memgate serve` processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { httpGet, parseMetrics } from '../helpers/admin-http.js';
import { findFreePort, freshTableName, getTestDatabaseUrl } from '../helpers/database.js';
import { RawConnection } from '../helpers/raw-connection.js';
import { waitFor } from '../helpers/wait.js';
import { GatewayProcess } from './php-sessions/harness.js';

const HAPROXY = '/usr/sbin/haproxy';

interface Backend {
  name: string;
  gateway: GatewayProcess;
  adminPort: number;
}

function haproxyConfig(port: number, socket: string, backends: Backend[]): string {
  return [
    'global',
    '  maxconn 512',
    `  stats socket ${socket} mode 600 level admin`,
    'defaults',
    '  mode tcp',
    '  timeout connect 1s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  retries 3',
    '  option redispatch 1',
    'listen memcached',
    `  bind 127.0.0.1:${port}`,
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    '  default-server inter 300ms fall 2 rise 2',
    ...backends.map((b) => `  server ${b.name} 127.0.0.1:${b.gateway.port} check port ${b.adminPort}`),
    '',
  ].join('\n');
}

/** HAProxy's status of each server of the memcached proxy (UP, DOWN, …), from its stats socket. */
async function serverStatus(socket: string): Promise<Map<string, string>> {
  const csv = await new Promise<string>((resolve, reject) => {
    const conn = net.connect(socket);
    let text = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => (text += chunk));
    conn.on('end', () => resolve(text));
    conn.on('error', reject);
    conn.end('show stat\n');
  });
  const [header, ...rows] = csv.trim().split('\n');
  const columns = header!.replace(/^# /, '').split(',');
  const at = (name: string) => columns.indexOf(name);
  const status = new Map<string, string>();
  for (const row of rows) {
    const cells = row.split(',');
    if (cells[at('pxname')] === 'memcached' && !['FRONTEND', 'BACKEND'].includes(cells[at('svname')]!)) {
      status.set(cells[at('svname')]!, cells[at('status')]!);
    }
  }
  return status;
}

/** One client request on a fresh connection through HAProxy. */
async function setThrough(port: number, key: string): Promise<string> {
  const conn = await RawConnection.open(port);
  try {
    return await conn.request(`set ${key} 0 0 1\r\nx\r\n`, 10_000);
  } finally {
    await conn.close();
  }
}

async function accepted(adminPort: number): Promise<number> {
  return parseMetrics((await httpGet(adminPort, '/metrics')).body).get('memgate_client_connections_accepted_total')!;
}

describe('e2e: HAProxy in front of gateways, checking /readyz', function () {
  this.timeout(120_000);
  let dir: string;
  let haproxy: ChildProcess | undefined;
  let haproxyOutput = '';
  let port: number;
  let socket: string;
  const backends: Backend[] = [];

  async function backend(name: string, dbUrl: string, table: string): Promise<Backend> {
    const adminPort = await findFreePort();
    const gateway = new GatewayProcess(await findFreePort(), [
      '--db-url', dbUrl, '--table', table, '--admin-port', String(adminPort), '--db-wait-at-start', '--log-level', 'info',
    ], dir);
    await gateway.start();
    const made = { name, gateway, adminPort };
    backends.push(made);
    return made;
  }

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'memgate-haproxy-'));
    const table = freshTableName('kv');
    const dbUrl = await getTestDatabaseUrl();
    await backend('a', dbUrl, table);
    await backend('b', dbUrl, table);
    // Nothing listens there: the database of this gateway is unreachable from the start.
    const nowhere = new URL(dbUrl);
    nowhere.port = String(await findFreePort());
    nowhere.searchParams.delete('socketPath');
    await backend('c', nowhere.toString(), table);
    await waitFor('the admin listeners', async () => {
      const replies = await Promise.all(backends.map((b) => httpGet(b.adminPort, '/healthz').catch(() => null)));
      return replies.every((reply) => reply?.status === 200);
    }, 10_000, 100);

    port = await findFreePort();
    socket = path.join(dir, 'haproxy.sock');
    const config = path.join(dir, 'haproxy.cfg');
    await writeFile(config, haproxyConfig(port, socket, backends));
    haproxy = spawn(HAPROXY, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    haproxy.stdout!.setEncoding('utf8').on('data', (chunk: string) => (haproxyOutput += chunk));
    haproxy.stderr!.setEncoding('utf8').on('data', (chunk: string) => (haproxyOutput += chunk));
    // HAProxy counts a server up until `fall` checks have failed: wait for its first verdicts.
    await waitFor('HAProxy to check every gateway', async () => {
      if (haproxy!.exitCode !== null) throw new Error(`haproxy exited: ${haproxyOutput}`);
      const status = await serverStatus(socket).catch(() => new Map<string, string>());
      return status.get('a') === 'UP' && status.get('b') === 'UP' && status.get('c') === 'DOWN';
    }, 10_000, 100);
  });

  after(async () => {
    haproxy?.kill('SIGTERM');
    await Promise.all(backends.map((b) => b.gateway.kill('SIGTERM')));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('never sends a client to the gateway whose database is unreachable', async () => {
    expect((await httpGet(backends[2]!.adminPort, '/readyz')).status).to.equal(503);
    for (let i = 0; i < 20; i++) expect(await setThrough(port, `ha-${i}`)).to.equal('STORED\r\n');
    const [a, b, c] = await Promise.all(backends.map((x) => accepted(x.adminPort)));
    expect(c).to.equal(0);
    expect(a! + b!).to.equal(20);
    expect(a).to.be.greaterThan(0);
    expect(b).to.be.greaterThan(0);
  });

  it('takes a killed gateway out of rotation while clients go on being served', async () => {
    await backends[0]!.gateway.kill('SIGKILL');
    const killedAt = Date.now();
    let outOfRotationMs: number | null = null;
    for (let i = 0; Date.now() - killedAt < 4000; i++) {
      expect(await setThrough(port, `ha-after-${i}`), `request ${i} after the kill`).to.equal('STORED\r\n');
      if (outOfRotationMs === null && (await serverStatus(socket)).get('a') === 'DOWN') outOfRotationMs = Date.now() - killedAt;
    }
    expect(outOfRotationMs, 'gateway a still in rotation 4 s after its kill').not.to.equal(null);
    expect(outOfRotationMs).to.be.lessThan(3000);
    const status = await serverStatus(socket);
    expect([status.get('a'), status.get('b'), status.get('c')]).to.deep.equal(['DOWN', 'UP', 'DOWN']);
    expect(await accepted(backends[2]!.adminPort)).to.equal(0);
  });
});
