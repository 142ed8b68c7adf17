/**
 * A real MariaDB Galera cluster on 127.0.0.1 for tests that need replication,
 * certification conflicts and node failure. Every node is a plain
 * mariadbd started with --no-defaults, its own directory under os.tmpdir(),
 * its own SQL, gcomm (group communication), IST and SST ports, so several
 * clusters (or test runs) can share a machine.
 *
 *   const cluster = await startGaleraCluster({ logger });
 *   cluster.nodes[1].url             // mysql://memgate:pw@127.0.0.1:<port>/memgate_test
 *   await cluster.kill(0);           // SIGKILL, like a crashed host
 *   await cluster.waitForClusterSize(2);
 *   await cluster.restart(0);        // recovers its position, rejoins by IST, resolves when Synced
 *   await cluster.stop();            // kills everything, deletes the directories
 *
 * Needs Debian's mariadb-server, galera-4 and rsync (see galeraMissing()).
 * Run as root, the servers run as the `mysql` user, owner of the directories:
 * rsync SST between root-run nodes fails ("Will never receive state").
 * Measured on a 2-core VM: start ~10 s, kill -9 -> survivors at size 2 ~3.3 s,
 * restart -> Synced by IST ~3-4 s.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, fchownSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { chown, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import type { Logger } from 'winston';
import { findExecutable } from '../../src/embedded/binaries.js';
import { isAlive, isRoot, signal } from '../../src/embedded/process-utils.js';
import { startWatchdog, type Watchdog } from '../../src/embedded/watchdog.js';
import { readTail } from '../../src/embedded/wait-ready.js';
import { findFreePort } from './database.js';

export const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';
const HOST = '127.0.0.1';
const USER = 'memgate';
const DIR_PREFIX = 'memgate-galera-';
/** wsrep_local_state values (wsrep_local_state_comment): 4 = Synced, the only state that serves queries. */
export const WSREP_SYNCED = 4;

export interface GaleraClusterOptions {
  /** Default 3; at least 1. */
  nodes?: number;
  logger?: Logger;
  /** Created on every node; the URLs point at it. Default 'memgate_test'. */
  database?: string;
  /** Bound on each wait (start of one node, join, restart). Default 60 s. */
  timeoutMs?: number;
  /** Appended to every node's command line, after ours, so they win. */
  extraServerArgs?: readonly string[];
}

export interface GaleraNode {
  index: number;
  /** SQL port on 127.0.0.1. */
  port: number;
  /** mysql://memgate:<password>@127.0.0.1:<port>/<database>; the account has all privileges (SET GLOBAL included). */
  url: string;
  /** This node's directory: data/, mariadbd.err, recover.err. */
  dir: string;
}

export interface GaleraNodeStatus {
  clusterSize: number;
  /** 4 = Synced; 1 Joining, 2 Donor/Desynced, 3 Joined. */
  localState: number;
  /** 'Primary' while the node is in the primary component, 'non-Primary' when cut off. */
  clusterStatus: string;
  ready: boolean;
}

export interface RestartResult {
  /** `<cluster uuid>:<seqno>` that --wsrep-recover found. */
  position: string;
  /** 'IST': only the missed write sets were sent; 'SST': the whole datadir was copied; 'none': nothing was missed. */
  transfer: 'IST' | 'SST' | 'none';
}

export interface GaleraCluster {
  readonly nodes: readonly GaleraNode[];
  /** Whether node i's mariadbd is running (started by us and not yet exited). */
  isRunning(index: number): boolean;
  /** SIGKILLs node i (its whole process group, so a running SST script dies too); resolves when it has exited. */
  kill(index: number): Promise<void>;
  /**
   * Starts a node that was killed: `mariadbd --wsrep-recover` reads the last
   * committed position from InnoDB, and `--wsrep-start-position` hands it to
   * Galera, so the node catches up by IST (a plain restart after kill -9 has
   * seqno -1 in grastate.dat and would copy everything by SST). Resolves when
   * the node is Synced. Returns the recovered position and, read from the
   * node's log, how it caught up.
   */
  restart(index: number): Promise<RestartResult>;
  /** Idempotent: kills every node and deletes the cluster's directory. */
  stop(): Promise<void>;
  status(index: number): Promise<GaleraNodeStatus>;
  /**
   * Runs one statement on node i over a fresh connection (session settings do not leak). Reads are
   * causal (wsrep_sync_wait=1): they see every write the cluster committed before them, which a
   * node that has certified a write but not yet applied it would otherwise miss.
   */
  sql<T = unknown>(index: number, statement: string, values?: unknown[]): Promise<T>;
  /**
   * Waits until every running node (or `opts.nodes`) is Synced, Primary and
   * sees `size` members: after kill(), the survivors only evict the dead node
   * once evs.suspect_timeout has passed.
   */
  waitForClusterSize(size: number, opts?: { nodes?: readonly number[]; timeoutMs?: number }): Promise<void>;
  /** Polls node i's status (every 100 ms) until `done` holds; fails if the node exits or the time is up. */
  waitForStatus(index: number, what: string, done: (s: GaleraNodeStatus) => boolean, opts?: { timeoutMs?: number }): Promise<void>;
}

/** Why a Galera cluster cannot be started here, or undefined when everything is installed. */
export function galeraMissing(): string | undefined {
  const missing: string[] = [];
  if (!findExecutable(['mariadbd']) || !findExecutable(['mariadb-install-db'])) missing.push('mariadb-server');
  try {
    accessSync(GALERA_PROVIDER, constants.R_OK);
  } catch {
    missing.push('galera-4');
  }
  if (!findExecutable(['rsync'])) missing.push('rsync');
  if (!findExecutable(['wsrep_sst_rsync'])) missing.push('mariadb-server (wsrep_sst_rsync)');
  return missing.length === 0 ? undefined : `missing Debian packages: ${missing.join(', ')}`;
}

// Failure detection in about 3 s instead of the defaults' ~5-6 s of stalled commits on the
// survivors. Galera checks these against each other at start (keepalive_period must stay below
// inactive_timeout/6, suspect_timeout below inactive_timeout). Tighter values (suspect PT1S,
// keepalive PT0.3S) made healthy nodes suspect each other while a third one joined on a 2-core
// machine, ending in non-Primary components.
const FAST_FAILURE_DETECTION = ['evs.keepalive_period=PT0.5S', 'evs.suspect_timeout=PT2S', 'evs.inactive_timeout=PT4S', 'evs.install_timeout=PT3S'];

interface NodePorts {
  sql: number;
  gcomm: number;
  ist: number;
  sst: number;
}

interface NodeState extends GaleraNode {
  ports: NodePorts;
  child?: ChildProcess;
  exit?: Promise<void>;
  exitReason?: string;
  watchdog?: Watchdog;
}

/** Numeric uid/gid of the `mysql` account, which the servers run as when we are root. */
function mysqlAccount(): { uid: number; gid: number } {
  const passwd = readFileSync('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((entry) => entry.startsWith('mysql:'));
  const fields = line?.split(':');
  if (!fields || fields.length < 4) throw new Error('running as root, but there is no `mysql` user to run mariadbd as (install mariadb-server)');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** Directories of runs that were killed before their stop(); their servers were killed by the watchdog. */
async function removeAbandonedClusterDirs(): Promise<void> {
  const entries = await readdir(os.tmpdir()).catch(() => [] as string[]);
  await Promise.all(
    entries.map(async (name) => {
      if (!name.startsWith(DIR_PREFIX)) return;
      const pid = Number(name.slice(DIR_PREFIX.length).split('-')[0]);
      if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) return;
      await rm(path.join(os.tmpdir(), name), { recursive: true, force: true });
    }),
  );
}

async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  // Distinct even if the OS hands the same just-closed port out twice.
  while (ports.size < count) ports.add(await findFreePort());
  return [...ports];
}

async function connect(url: string): Promise<mysql.Connection> {
  return mysql.createConnection({ uri: url, connectTimeout: 2_000 });
}

function errorText(err: unknown): string {
  const e = err as { errno?: number; message?: string };
  return e.errno ? `${e.errno} ${e.message}` : String(e.message ?? err);
}

export async function startGaleraCluster(opts: GaleraClusterOptions = {}): Promise<GaleraCluster> {
  const count = opts.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1) throw new Error(`invalid node count ${count}`);
  const database = opts.database ?? 'memgate_test';
  if (!/^[A-Za-z0-9_]{1,64}$/.test(database)) throw new Error(`invalid database name ${JSON.stringify(database)}`);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const logger = opts.logger;
  const missing = galeraMissing();
  if (missing) throw new Error(`cannot start a Galera cluster: ${missing}`);
  const server = findExecutable(['mariadbd'])!;
  const installDb = findExecutable(['mariadb-install-db'])!;
  // rsync SST fails as root: the joiner's `rsync --daemon` drops to `nobody` and cannot write the datadir.
  const account = isRoot() ? mysqlAccount() : undefined;

  await removeAbandonedClusterDirs();
  const root = path.join(os.tmpdir(), `${DIR_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`);
  const password = randomBytes(16).toString('hex');
  const ports = await freePorts(count * 4);
  const nodes: NodeState[] = Array.from({ length: count }, (_, index) => {
    const [sql, gcomm, ist, sst] = ports.slice(index * 4, index * 4 + 4) as [number, number, number, number];
    return {
      index,
      port: sql,
      url: `mysql://${USER}:${password}@${HOST}:${sql}/${database}`,
      dir: path.join(root, `node${index}`),
      ports: { sql, gcomm, ist, sst },
    };
  });
  const clusterAddress = `gcomm://${nodes.map((n) => `${HOST}:${n.ports.gcomm}`).join(',')}`;
  const clusterName = path.basename(root);

  const dataDir = (node: NodeState): string => path.join(node.dir, 'data');
  const errorLog = (node: NodeState): string => path.join(node.dir, 'mariadbd.err');

  function serverArgs(node: NodeState): string[] {
    const { gcomm, ist, sst, sql } = node.ports;
    const providerOptions = [
      `base_host=${HOST}`,
      `base_port=${gcomm}`,
      `gmcast.listen_addr=tcp://${HOST}:${gcomm}`,
      // Without these every node would use 4568 (IST) and 4444 (SST) and collide.
      `ist.recv_addr=${HOST}:${ist}`,
      'gcache.size=64M',
      ...FAST_FAILURE_DETECTION,
    ].join(';');
    return [
      '--no-defaults',
      ...(account ? ['--user=mysql'] : []),
      `--datadir=${dataDir(node)}`,
      `--socket=${path.join(node.dir, 'mariadbd.sock')}`,
      `--pid-file=${path.join(node.dir, 'mariadbd.pid')}`,
      `--log-error=${errorLog(node)}`,
      `--bind-address=${HOST}`,
      `--port=${sql}`,
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=64M',
      '--innodb-log-file-size=16M',
      // Durability comes from replication; 1 would make every commit of the test load fsync three times.
      '--innodb-flush-log-at-trx-commit=2',
      '--max-allowed-packet=64M',
      '--character-set-server=utf8mb4',
      '--transaction-isolation=READ-COMMITTED',
      // What Galera requires: row events, InnoDB, interleaved auto-increment locks.
      '--binlog-format=ROW',
      '--default-storage-engine=InnoDB',
      '--innodb-autoinc-lock-mode=2',
      '--wsrep-on=ON',
      `--wsrep-provider=${GALERA_PROVIDER}`,
      `--wsrep-cluster-address=${clusterAddress}`,
      `--wsrep-cluster-name=${clusterName}`,
      `--wsrep-node-name=node${node.index}`,
      `--wsrep-node-address=${HOST}:${gcomm}`,
      `--wsrep-node-incoming-address=${HOST}:${sql}`,
      `--wsrep-provider-options=${providerOptions}`,
      '--wsrep-sst-method=rsync',
      `--wsrep-sst-receive-address=${HOST}:${sst}`,
      '--wsrep-slave-threads=2',
      ...(opts.extraServerArgs ?? []),
    ];
  }

  async function chownTree(dir: string): Promise<void> {
    if (account) await run('chown', ['-R', `${account.uid}:${account.gid}`, dir], 30_000);
  }

  function spawnNode(node: NodeState, extra: string[]): void {
    // Early failures (bad option) go to stderr before --log-error takes over.
    const logFd = openSync(errorLog(node), 'a', 0o644);
    let child: ChildProcess;
    try {
      // mariadbd reopens the log after switching to `mysql`.
      if (account) fchownSync(logFd, account.uid, account.gid);
      // Own process group, so kill() and the watchdog can take SST helpers down with the server.
      child = spawn(server, [...serverArgs(node), ...extra], { stdio: ['ignore', logFd, logFd], detached: true });
    } finally {
      closeSync(logFd);
    }
    child.unref();
    node.child = child;
    node.exitReason = undefined;
    node.exit = new Promise((resolve) => {
      child.on('error', (err) => {
        node.exitReason ??= `could not be run (${err.message})`;
        resolve();
      });
      child.on('exit', (code, sig) => {
        node.exitReason ??= sig ? `was killed by ${sig}` : `exited with code ${code}`;
        node.watchdog?.dispose();
        resolve();
      });
    });
    if (child.pid !== undefined) node.watchdog = startWatchdog(child.pid, { killGroup: true });
  }

  const running = (node: NodeState): boolean => node.child !== undefined && node.exitReason === undefined;

  async function status(index: number): Promise<GaleraNodeStatus> {
    const node = nodeAt(index);
    const connection = await connect(node.url);
    try {
      const [rows] = await connection.query(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_size', 'wsrep_local_state', 'wsrep_ready', 'wsrep_cluster_status')",
      );
      const values = new Map((rows as Array<{ Variable_name: string; Value: string }>).map((r) => [r.Variable_name, r.Value]));
      return {
        clusterSize: Number(values.get('wsrep_cluster_size') ?? 0),
        localState: Number(values.get('wsrep_local_state') ?? 0),
        clusterStatus: values.get('wsrep_cluster_status') ?? '',
        ready: values.get('wsrep_ready') === 'ON',
      };
    } finally {
      await connection.end().catch(() => {});
    }
  }

  /** Polls status until `done` holds; fails early if the node's process exits. */
  async function waitForNode(node: NodeState, what: string, done: (s: GaleraNodeStatus) => boolean, waitMs = timeoutMs): Promise<void> {
    const deadline = Date.now() + waitMs;
    let last = 'no answer yet';
    for (;;) {
      if (node.exitReason !== undefined) {
        throw new Error(`galera node ${node.index} ${node.exitReason} while waiting for ${what}. Tail of ${errorLog(node)}:\n${await readTail(errorLog(node))}`);
      }
      try {
        const s = await status(node.index);
        if (done(s)) return;
        last = JSON.stringify(s);
      } catch (err) {
        last = errorText(err);
      }
      if (Date.now() >= deadline) {
        throw new Error(`galera node ${node.index}: no ${what} within ${waitMs} ms (last: ${last}). Tail of ${errorLog(node)}:\n${await readTail(errorLog(node))}`);
      }
      await sleep(100);
    }
  }

  const synced = (s: GaleraNodeStatus): boolean => s.ready && s.localState === WSREP_SYNCED && s.clusterStatus === 'Primary';

  async function startNode(node: NodeState, extra: string[], what: string): Promise<void> {
    const started = Date.now();
    spawnNode(node, extra);
    await waitForNode(node, what, synced);
    logger?.info(`galera node ${node.index} ${what} after ${Date.now() - started} ms (port ${node.port})`);
  }

  function nodeAt(index: number): NodeState {
    const node = nodes[index];
    if (!node) throw new Error(`no galera node ${index} (the cluster has ${nodes.length})`);
    return node;
  }

  async function kill(index: number): Promise<void> {
    const node = nodeAt(index);
    if (!running(node)) return;
    // The child is unref()'d so a forgotten cluster never holds node open; while we wait on it, it must.
    node.child!.ref();
    signal(-node.child!.pid!, 'SIGKILL');
    await node.exit;
  }

  // With rsync, an IST is also logged as 'SST received' (the script runs, finds nothing to copy), so IST wins.
  function stateTransferIn(log: string): RestartResult['transfer'] {
    if (/WSREP: IST received/.test(log)) return 'IST';
    if (/WSREP: SST received|WSREP: SST succeeded/.test(log)) return 'SST';
    return 'none';
  }

  const recoveredPosition = /WSREP: Recovered position:?\s+([0-9a-f-]{36}:-?\d+)/;

  async function restart(index: number): Promise<RestartResult> {
    const node = nodeAt(index);
    if (running(node)) throw new Error(`galera node ${index} is still running; kill() it first`);
    const started = Date.now();
    const recoverLog = path.join(node.dir, 'recover.err');
    await rm(recoverLog, { force: true });
    // Without networking, so it cannot clash with anything while it reads InnoDB's last committed XID.
    await run(server, [...serverArgs(node), `--log-error=${recoverLog}`, '--skip-networking', '--wsrep-recover'], timeoutMs);
    const match = recoveredPosition.exec(readFileSync(recoverLog, 'utf8'));
    if (!match) throw new Error(`galera node ${index}: --wsrep-recover logged no position. Tail of ${recoverLog}:\n${await readTail(recoverLog)}`);
    const position = match[1]!;
    logger?.info(`galera node ${index} recovered position ${position} in ${Date.now() - started} ms`);
    const logStart = statSync(errorLog(node)).size;
    await startNode(node, [`--wsrep-start-position=${position}`], `rejoined (from ${position})`);
    return { position, transfer: stateTransferIn(readFileSync(errorLog(node)).subarray(logStart).toString('utf8')) };
  }

  let stopping: Promise<void> | undefined;
  const onProcessExit = (): void => {
    // Synchronous only: kill the groups, then the files can go.
    for (const node of nodes) if (running(node)) signal(-node.child!.pid!, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  process.on('exit', onProcessExit);

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.off('exit', onProcessExit);
      // SIGKILL, not a clean shutdown: the data is deleted next, and a node leaving a
      // cluster whose other members are also going can wait a long time.
      await Promise.all(nodes.map((node) => kill(node.index)));
      for (const node of nodes) node.watchdog?.dispose();
      await rm(root, { recursive: true, force: true });
    })());

  async function sql<T>(index: number, statement: string, values?: unknown[]): Promise<T> {
    const connection = await connect(nodeAt(index).url);
    try {
      await connection.query('SET SESSION wsrep_sync_wait = 1');
      const [result] = await connection.query(statement, values);
      return result as T;
    } finally {
      await connection.end().catch(() => {});
    }
  }

  async function waitForClusterSize(size: number, waitOpts: { nodes?: readonly number[]; timeoutMs?: number } = {}): Promise<void> {
    const targets = (waitOpts.nodes ?? nodes.filter(running).map((n) => n.index)).map(nodeAt);
    await Promise.all(targets.map((node) => waitForNode(node, `cluster size ${size}`, (s) => synced(s) && s.clusterSize === size, waitOpts.timeoutMs)));
  }

  try {
    const started = Date.now();
    await mkdir(root, { recursive: true, mode: 0o755 });
    for (const node of nodes) await mkdir(dataDir(node), { recursive: true, mode: 0o750 });
    const node0 = nodes[0]!;
    // mariadbd --bootstrap, run by install-db as `mysql`, must be able to write the datadir.
    await chownTree(root);
    // Only node 0 is initialised; the others start empty and receive everything by SST.
    await run(
      installDb,
      [
        '--no-defaults',
        `--datadir=${dataDir(node0)}`,
        '--skip-test-db',
        '--auth-root-authentication-method=socket',
        '--skip-name-resolve',
        '--innodb-log-file-size=16M',
        ...(account ? ['--user=mysql'] : []),
      ],
      timeoutMs,
    );
    // Runs on the bootstrap node before it serves anyone; the joiners get the result by SST.
    const initFile = path.join(node0.dir, 'init.sql');
    const who = `'${USER}'@'${HOST}'`;
    await writeFile(
      initFile,
      [
        `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4;`,
        `CREATE USER IF NOT EXISTS ${who} IDENTIFIED BY '${password}';`,
        // Global privileges so tests can SET GLOBAL (e.g. gmcast.isolate) with the same URL.
        `GRANT ALL PRIVILEGES ON *.* TO ${who};`,
        '',
      ].join('\n'),
      { mode: 0o644 },
    );
    await chownTree(root);
    await startNode(node0, ['--wsrep-new-cluster', `--init-file=${initFile}`], 'bootstrapped');
    await rm(initFile, { force: true });
    // One at a time: a donor serves one SST at once, and the joiners would otherwise retry every second.
    for (const node of nodes.slice(1)) await startNode(node, [], 'joined by SST');
    await waitForClusterSize(count);
    logger?.info(`galera cluster of ${count} up after ${Date.now() - started} ms in ${root}`);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    nodes: nodes.map(({ index, port, url, dir }) => ({ index, port, url, dir })),
    isRunning: (index) => running(nodeAt(index)),
    kill,
    restart,
    stop,
    status,
    sql,
    waitForClusterSize,
    waitForStatus: (index, what, done, waitOpts) => waitForNode(nodeAt(index), what, done, waitOpts?.timeoutMs),
  };
}

/** Runs a command to completion within timeoutMs; the error carries its output. */
function run(file: string, args: readonly string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) {
        resolve();
        return;
      }
      const output = `${stdout}${stderr}`.trim().split('\n').slice(-30).join('\n');
      reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${output}`));
    });
  });
}
