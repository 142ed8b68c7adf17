/**
 * `memgate serve --workers N` as an operator runs it: N processes answer on one port, each says
 * which it is in stats, a worker that dies is replaced, SIGTERM drains them all, and a worker
 * that cannot start stops the whole gateway.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { httpGet, parseMetrics } from '../helpers/admin-http.js';
import { startCli, type Spawned } from '../helpers/cli.js';
import { findFreePort, freshTableName, getTestDatabaseUrl } from '../helpers/database.js';
import { RawConnection } from '../helpers/raw-connection.js';
import { waitFor } from '../helpers/wait.js';

interface Answerer {
  pid: number;
  worker: number;
}

/** Which process answered `stats` on a new connection. */
async function whoAnswers(port: number, timeoutMs = 5000): Promise<Answerer> {
  const client = await RawConnection.open(port);
  try {
    const reply = await client.request('stats\r\n', timeoutMs);
    const stat = (name: string) => Number(new RegExp(`^STAT ${name} (\\d+)\\r$`, 'm').exec(reply)?.[1]);
    return { pid: stat('pid'), worker: stat('worker_id') };
  } finally {
    await client.close();
  }
}

async function answerers(port: number, connections: number, timeoutMs?: number): Promise<Answerer[]> {
  const seen: Answerer[] = [];
  for (let i = 0; i < connections; i++) seen.push(await whoAnswers(port, timeoutMs));
  return seen;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('e2e: serve --workers', function () {
  this.timeout(90_000);
  let cwd: string;
  let dbUrl: string;

  before(async () => {
    cwd = await mkdtemp(path.join(os.tmpdir(), 'memgate-workers-'));
    dbUrl = await getTestDatabaseUrl();
  });

  after(async () => {
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  async function serve(args: string[]): Promise<{ server: Spawned; port: number }> {
    const port = await findFreePort();
    const server = startCli(['serve', '--port', String(port), ...args], cwd, {}, 80_000);
    // Both workers listening: four connections in turn reach both.
    const bothServe = async () => new Set((await answerers(port, 4).catch(() => [])).map((a) => a.worker)).size === 2;
    await waitFor(`memgate serve ${args.join(' ')} answering on ${port} from both workers`, async () => {
      if (server.child.exitCode !== null) throw new Error(`memgate serve exited: ${JSON.stringify(server.output())}`);
      return bothServe();
    }, 40_000, 200);
    return { server, port };
  }

  it('two workers share the port, say which answered, see one another\'s items, and SIGTERM drains both', async () => {
    const { server, port } = await serve(['--workers', '2', '--db-url', dbUrl, '--table', freshTableName('workers')]);
    const seen = await answerers(port, 6);
    expect(new Set(seen.map((a) => a.worker))).to.deep.equal(new Set([1, 2]));
    const pids = [...new Set(seen.map((a) => a.pid))];
    expect(pids).to.have.length(2);
    expect(pids).to.not.include(server.child.pid);

    // Connections are dealt out in turn, so two in a row reach different workers.
    const first = await RawConnection.open(port);
    const second = await RawConnection.open(port);
    try {
      expect(await first.request('set shared 0 0 5\r\nhello\r\n')).to.equal('STORED\r\n');
      expect(await second.request('get shared\r\n')).to.equal('VALUE shared 0 5\r\nhello\r\nEND\r\n');
      const ids = [await first.request('stats\r\n'), await second.request('stats\r\n')].map((r) => /STAT worker_id (\d+)/.exec(r)?.[1]);
      expect(ids[0]).to.not.equal(ids[1]);
    } finally {
      await first.close();
      await second.close();
    }

    server.child.kill('SIGTERM');
    const exited = await server.exited;
    expect(exited.code, exited.stderr).to.equal(0);
    expect(exited.stdout + exited.stderr).to.include('draining workers');
    for (const pid of pids) expect(alive(pid), `worker ${pid} after the primary exited`).to.equal(false);
    expect(await RawConnection.canConnect(port)).to.equal(false);
  });

  it('the primary owns the unix socket and the admin port: /metrics sums every worker, /readyz answers, SIGTERM removes the socket', async () => {
    const socket = path.join(cwd, 'workers.sock');
    const adminPort = await findFreePort();
    const { server, port } = await serve(['--workers', '2', '--db-url', dbUrl, '--table', freshTableName('workers'),
      '--socket', socket, '--admin-port', String(adminPort)]);
    try {
      expect((await stat(socket)).isSocket()).to.equal(true);
      // Two connections in a row reach different workers; each stores one item.
      const sets = async (open: () => Promise<RawConnection>, key: string) => {
        const client = await open();
        try {
          expect(await client.request(`set ${key} 0 0 1\r\nx\r\n`)).to.equal('STORED\r\n');
          return /STAT worker_id (\d+)/.exec(await client.request('stats\r\n'))?.[1];
        } finally {
          await client.close();
        }
      };
      const workers = [await sets(() => RawConnection.open(port), 'w1'), await sets(() => RawConnection.open(port), 'w2')];
      expect(new Set(workers).size, 'both workers stored one').to.equal(2);
      expect(await sets(() => RawConnection.open(0, { path: socket }), 'w3')).to.match(/^[12]$/);
      const stored = parseMetrics((await httpGet(adminPort, '/metrics')).body).get('memgate_commands_total{command="set",outcome="stored"}');
      expect(stored, 'the sets of both workers, summed').to.equal(3);
      expect((await httpGet(adminPort, '/readyz')).status).to.equal(200);
    } finally {
      server.child.kill('SIGTERM');
      expect((await server.exited).code).to.equal(0);
    }
    expect(await stat(socket).then(() => 'there', () => 'gone')).to.equal('gone');
    expect(await RawConnection.canConnect(adminPort)).to.equal(false);
  });

  it('replaces a worker that dies, under the same worker number', async () => {
    const { server, port } = await serve(['--workers', '2', '--db-url', dbUrl, '--table', freshTableName('workers')]);
    try {
      const before = await answerers(port, 4);
      const victim = before.find((a) => a.worker === 1)!;
      process.kill(victim.pid, 'SIGKILL');
      // A connection the primary hands to the worker in the instant it dies is lost with it
      // (node:cluster's round-robin; docs/workers.md): until the replacement serves, a try may hang.
      const replaced = async () => (await answerers(port, 4, 500).catch(() => [])).some((a) => a.worker === 1 && a.pid !== victim.pid);
      await waitFor('a new worker 1', replaced, 20_000, 200);
      const after = await answerers(port, 4);
      expect(after.map((a) => a.pid)).to.not.include(victim.pid);
      expect(new Set(after.map((a) => a.worker))).to.deep.equal(new Set([1, 2]));
      expect(server.output().stdout + server.output().stderr).to.include('worker died; starting another');
    } finally {
      server.child.kill('SIGTERM');
      expect((await server.exited).code).to.equal(0);
    }
  });

  it('starts the embedded MariaDB once, in the primary, for all workers', async () => {
    const dataDir = path.join(cwd, 'embedded');
    const { server, port } = await serve(['--workers', '2', '--embedded-data-dir', dataDir, '--embedded-port', String(await findFreePort())]);
    try {
      const client = await RawConnection.open(port);
      expect(await client.request('set e 0 0 1\r\nx\r\n')).to.equal('STORED\r\n');
      await client.close();
      expect(new Set((await answerers(port, 4)).map((a) => a.worker))).to.deep.equal(new Set([1, 2]));
      const log = server.output().stdout + server.output().stderr;
      expect(log.match(/starting embedded MariaDB/g) ?? []).to.have.length(1);
    } finally {
      server.child.kill('SIGTERM');
      const exited = await server.exited;
      expect(exited.code, exited.stderr).to.equal(0);
      expect(exited.stdout + exited.stderr).to.include('embedded MariaDB stopped');
    }
  });

  it('a worker that cannot start stops the gateway with its reason and exit code', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const run = await startCli(['serve', '--workers', '2', '--port', String(port), '--db-url', dbUrl, '--table', freshTableName('workers')],
        cwd, {}, 40_000).exited;
      expect(run.signal, 'still running').to.equal(null);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.include(`memgate: 127.0.0.1:${port} is in use`);
    } finally {
      blocker.close();
    }
    const wrongPassword = new URL(dbUrl);
    wrongPassword.password = 'wrong';
    const refused = await startCli(['serve', '--workers', '2', '--port', String(await findFreePort()), '--db-url', wrongPassword.toString(),
      '--table', freshTableName('workers')], cwd, {}, 40_000).exited;
    expect(refused.signal, 'still running').to.equal(null);
    expect(refused.code, refused.stderr).to.equal(2);
    expect(refused.stderr).to.include('cannot use the database at db.url').and.include('Access denied');
  });
});
