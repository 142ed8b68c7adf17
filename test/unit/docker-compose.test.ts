import { access, readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { load } from 'js-yaml';
import { loadConfig } from '../../src/config/load-config.js';

// The compose file is for users with Docker; we cannot run it here, so pin down its shape instead.

interface Service {
  profiles?: string[];
  image?: string;
  build?: unknown;
  entrypoint?: string[] | string;
  command?: string[] | string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: Array<string | { target: number; published: number | string; host_ip?: string }>;
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
}

interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const root = new URL('../../../', import.meta.url);

function commandOf(service: Service): string[] {
  const { command } = service;
  if (command === undefined) return [];
  return Array.isArray(command) ? command : command.split(/\s+/);
}

function optionValue(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index >= 0) return args[index + 1];
  return args.find((arg) => arg.startsWith(`${name}=`))?.slice(name.length + 1);
}

function publishedPorts(service: Service): Array<{ hostIp?: string; published: number; target: number }> {
  return (service.ports ?? []).map((port) => {
    if (typeof port !== 'string') {
      return { hostIp: port.host_ip, published: Number(port.published), target: port.target };
    }
    const parts = port.split(':');
    const target = Number(parts.pop());
    const published = Number(parts.pop());
    return { hostIp: parts.pop(), published, target };
  });
}

async function loadCompose(): Promise<Compose> {
  return load(await readFile(new URL('docker-compose.yml', root), 'utf8')) as Compose;
}

function serviceOf(compose: Compose, name: string): Service {
  const found = compose.services[name];
  expect(found, `service ${name}`).to.be.an('object');
  return found as Service;
}

describe('docker-compose.yml', () => {
  let compose: Compose;

  before(async () => {
    compose = await loadCompose();
  });

  const service = (name: string): Service => serviceOf(compose, name);

  function expectDbUrlReachesMysql(name: string, args = commandOf(service(name))): void {
    const url = optionValue(args, '--db-url');
    expect(url, `${name} --db-url`).to.be.a('string');
    const parsed = new URL(url as string);
    const env = service('mysql').environment ?? {};
    expect(parsed.protocol).to.equal('mysql:');
    expect(parsed.hostname, `${name} must reach the mysql service by name`).to.equal('mysql');
    expect(parsed.port === '' ? '3306' : parsed.port).to.equal('3306');
    expect(parsed.pathname).to.equal(`/${env.MYSQL_DATABASE}`);
    expect(decodeURIComponent(parsed.username)).to.equal(env.MYSQL_USER);
    expect(decodeURIComponent(parsed.password)).to.equal(env.MYSQL_PASSWORD);
  }

  it('runs exactly the mysql, schema, two gateway and sweeper services when no profile is chosen', () => {
    const always = Object.entries(compose.services).filter(([, s]) => s.profiles === undefined).map(([name]) => name);
    expect(always).to.have.members(['mysql', 'schema', 'gateway1', 'gateway2', 'sweeper']);
  });

  it('runs MySQL 8.4 on InnoDB with a persistent volume and a mysqladmin ping healthcheck', () => {
    const mysql = service('mysql');
    expect(mysql.image).to.equal('mysql:8.4');
    expect(commandOf(mysql)).to.include('--default-storage-engine=InnoDB');
    const test = mysql.healthcheck?.test;
    const healthcheck = Array.isArray(test) ? test.join(' ') : (test ?? '');
    expect(healthcheck).to.match(/mysqladmin\b.*\bping\b/);
    const volume = mysql.volumes?.find((entry) => entry.endsWith(':/var/lib/mysql'));
    expect(volume, 'a volume on /var/lib/mysql').to.be.a('string');
    expect(compose.volumes ?? {}).to.have.property((volume as string).split(':')[0] as string);
  });

  it('creates the schema once MySQL is healthy', () => {
    const schema = service('schema');
    expect(schema.build).to.not.equal(undefined);
    expect(commandOf(schema)[0]).to.equal('schema');
    expect(schema.depends_on?.mysql?.condition).to.equal('service_healthy');
    expectDbUrlReachesMysql('schema');
  });

  for (const [name, hostPort] of [
    ['gateway1', 11211],
    ['gateway2', 11212],
  ] as const) {
    it(`starts ${name} after the schema, published on 127.0.0.1:${hostPort}`, () => {
      const gateway = service(name);
      const args = commandOf(gateway);
      expect(args[0]).to.equal('serve');
      expect(optionValue(args, '--host')).to.equal('0.0.0.0');
      expect(optionValue(args, '--port')).to.equal('11211');
      expect(publishedPorts(gateway)).to.deep.equal([{ hostIp: '127.0.0.1', published: hostPort, target: 11211 }]);
      expect(gateway.depends_on?.schema?.condition).to.equal('service_completed_successfully');
      expect(gateway.depends_on?.mysql?.condition).to.equal('service_healthy');
      expect(gateway.image ?? gateway.build).to.not.equal(undefined);
      expectDbUrlReachesMysql(name);
    });
  }

  it('runs memgate sweep against MySQL every few minutes, after the schema, for ever', () => {
    const sweeper = service('sweeper');
    expect(sweeper.entrypoint).to.deep.equal(['sh', '-c']);
    const script = commandOf(sweeper).join(' ');
    const words = script.split(/[\s;]+/);
    // a TERM from docker compose stop ends the loop instead of waiting for the kill
    expect(script).to.match(/^trap 'exit 0' TERM INT; while true; do .* done$/);
    const sweep = words.indexOf('dist/src/cli/memgate.js');
    expect(words.slice(sweep - 1, sweep + 2)).to.deep.equal(['node', 'dist/src/cli/memgate.js', 'sweep']);
    const pause = Number(words[words.indexOf('sleep') + 1]);
    expect(pause, 'seconds between passes').to.be.within(60, 3600);
    expectDbUrlReachesMysql('sweeper', words);
    expect(sweeper.depends_on?.schema?.condition).to.equal('service_completed_successfully');
    expect(sweeper.depends_on?.mysql?.condition).to.equal('service_healthy');
    expect(sweeper.image ?? sweeper.build).to.not.equal(undefined);
    expect(sweeper.ports ?? [], 'a sweeper serves no clients').to.deep.equal([]);
  });

  it('gives every memgate command settings memgate accepts, and the same TLS to MySQL everywhere', () => {
    const sweepWords = commandOf(service('sweeper')).join(' ').split(/[\s;]+/);
    const commands: Array<[string, string[]]> = [
      ['schema', commandOf(service('schema')).slice(1)],
      ['gateway1', commandOf(service('gateway1')).slice(1)],
      ['gateway2', commandOf(service('gateway2')).slice(1)],
      ['sweeper', sweepWords.slice(sweepWords.indexOf('sweep') + 1, sweepWords.indexOf('sleep'))],
    ];
    for (const [name, flags] of commands) {
      // ${NAME:-default} as compose fills it in when NAME is not set.
      const env = Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([key, value]) => [key, String(value).replace(/^\$\{\w+:-(.*)\}$/, '$1')]));
      expect(() => loadConfig({ argv: flags, env }), `${name}: ${flags.join(' ')}`).to.not.throw();
      expect(optionValue(flags, '--db-ssl-mode'), `${name} --db-ssl-mode`).to.equal('required');
    }
    for (const name of ['gateway1', 'gateway2']) expect(service(name).environment?.MEMGATE_WORKERS).to.equal('${MEMGATE_WORKERS:-1}');
  });

  it('builds an image whose entrypoint is the memgate CLI', async () => {
    const dockerfile = await readFile(new URL('Dockerfile', root), 'utf8');
    expect(dockerfile).to.match(/^FROM node:20-bookworm-slim\b/m);
    expect(dockerfile).to.match(/npm ci/);
    expect(dockerfile).to.match(/npm prune --omit=dev/);
    expect(dockerfile).to.match(/^ENTRYPOINT \["node", "dist\/src\/cli\/memgate\.js"\]$/m);
  });
});

/** config.ini sections in file order; NDB repeats [ndbd], [mysqld] ... once per node. Keys lower-cased. */
function parseIni(text: string): Array<{ section: string; values: Record<string, string> }> {
  const sections: Array<{ section: string; values: Record<string, string> }> = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line === '') continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      sections.push({ section: header[1]!.trim().toLowerCase(), values: {} });
      continue;
    }
    const current = sections[sections.length - 1];
    if (!current) continue;
    // A bare option (my.cnf's "ndbcluster") is a flag that is on.
    const eq = line.indexOf('=');
    if (eq < 0) current.values[line.toLowerCase()] = '';
    else current.values[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return sections;
}

describe('docker-compose.yml, profile ndb (MySQL NDB Cluster)', () => {
  let compose: Compose;
  const cluster = ['ndb-mgmd', 'ndb-data1', 'ndb-data2', 'ndb-sql1', 'ndb-sql2'];
  const dataNodes = ['ndb-data1', 'ndb-data2'];
  const sqlNodes = ['ndb-sql1', 'ndb-sql2'];
  const gateways = [['ndb-gateway1', 11221], ['ndb-gateway2', 11222]] as const;

  before(async () => {
    compose = await loadCompose();
  });

  const service = (name: string): Service => serviceOf(compose, name);

  function ndbServices(): string[] {
    return Object.entries(compose.services).filter(([, s]) => s.profiles?.includes('ndb')).map(([name]) => name);
  }

  /** host path (relative to the repository) -> container path, for ./ bind mounts */
  function bindMounts(name: string): Map<string, string> {
    const mounts = new Map<string, string>();
    for (const volume of service(name).volumes ?? []) {
      const [source, target] = volume.split(':');
      if (source?.startsWith('./')) mounts.set(source.slice(2), target as string);
    }
    return mounts;
  }

  /** the comma-separated --db-url of a service: SQL node service names in order, after checking credentials */
  function sqlNodesOf(name: string, args: string[]): string[] {
    const value = optionValue(args, '--db-url');
    expect(value, `${name} --db-url`).to.be.a('string');
    return (value as string).split(',').map((url) => {
      const parsed = new URL(url);
      const env = service(parsed.hostname).environment ?? {};
      expect(parsed.protocol).to.equal('mysql:');
      expect(parsed.port === '' ? '3306' : parsed.port).to.equal('3306');
      expect(parsed.pathname).to.equal(`/${env.MYSQL_DATABASE}`);
      expect(decodeURIComponent(parsed.username)).to.equal(env.MYSQL_USER);
      expect(decodeURIComponent(parsed.password)).to.equal(env.MYSQL_PASSWORD);
      return parsed.hostname;
    });
  }

  function scriptWords(name: string): string[] {
    const s = service(name);
    expect(s.entrypoint, `${name} runs a shell loop`).to.deep.equal(['sh', '-c']);
    return commandOf(s).join(' ').split(/[\s;]+/);
  }

  it('has the management node, two data nodes, two SQL nodes, schema, two gateways and a sweeper, all in profile ndb only', () => {
    expect(ndbServices()).to.have.members([...cluster, 'ndb-schema', 'ndb-gateway1', 'ndb-gateway2', 'ndb-sweeper']);
    for (const name of ndbServices()) expect(service(name).profiles, name).to.deep.equal(['ndb']);
  });

  it('runs every cluster node from Oracle\'s community-cluster image, 8.0.30 or later (BLOB_INLINE_SIZE), in its role', () => {
    const roles: Record<string, RegExp> = {
      'ndb-mgmd': /^ndb_mgmd$/, 'ndb-data1': /^ndbmtd$|^ndbd$/, 'ndb-data2': /^ndbmtd$|^ndbd$/, 'ndb-sql1': /^mysqld$/, 'ndb-sql2': /^mysqld$/,
    };
    for (const name of cluster) {
      const image = service(name).image ?? '';
      const match = /^container-registry\.oracle\.com\/mysql\/community-cluster:(\d+)\.(\d+)(?:\.(\d+))?/.exec(image);
      expect(match, `${name} image ${image}`).to.not.equal(null);
      const [major, minor, patch] = [Number(match![1]), Number(match![2]), Number(match![3] ?? 99)];
      expect(major > 8 || (major === 8 && (minor > 0 || patch >= 30)), `${name}: ${image} predates NDB 8.0.30`).to.equal(true);
      expect(commandOf(service(name))[0], name).to.match(roles[name]!);
    }
  });

  it('mounts config files that exist: config.ini for the management node, my.cnf for the SQL nodes', async () => {
    for (const name of ndbServices()) {
      for (const source of bindMounts(name).keys()) {
        await access(new URL(source, root)).catch(() => expect.fail(`${name} mounts ${source}, which does not exist`));
      }
    }
    expect([...bindMounts('ndb-mgmd')]).to.deep.include(['config/ndb/config.ini', '/etc/mysql-cluster.cnf']);
    for (const name of sqlNodes) expect([...bindMounts(name)]).to.deep.include(['config/ndb/my.cnf', '/etc/my.cnf']);
    // Data nodes keep their file system (checkpoints, redo log) across container restarts.
    for (const name of [...dataNodes, ...sqlNodes]) {
      const volume = service(name).volumes?.find((entry) => entry.endsWith(':/var/lib/mysql'));
      expect(volume, `${name}: a named volume on /var/lib/mysql`).to.be.a('string');
      expect(compose.volumes ?? {}).to.have.property((volume as string).split(':')[0] as string);
    }
  });

  it('config.ini names every node by its service, with node ids the data nodes start with', async () => {
    const ini = parseIni(await readFile(new URL('config/ndb/config.ini', root), 'utf8'));
    const ids = ini.filter((s) => s.values.nodeid !== undefined).map((s) => s.values.nodeid);
    expect(new Set(ids).size, 'node ids are unique').to.equal(ids.length);
    const mgmd = ini.filter((s) => s.section === 'ndb_mgmd');
    expect(mgmd.map((s) => s.values.hostname)).to.deep.equal(['ndb-mgmd']);
    const ndbd = ini.filter((s) => s.section === 'ndbd');
    expect(ndbd.map((s) => s.values.hostname)).to.have.members(dataNodes);
    for (const node of ndbd) {
      const args = commandOf(service(node.values.hostname!));
      expect(optionValue(args, '--ndb-nodeid'), `${node.values.hostname} --ndb-nodeid`).to.equal(node.values.nodeid);
      expect(optionValue(args, '--ndb-connectstring')).to.equal('ndb-mgmd:1186');
    }
    const replicas = ini.find((s) => s.section === 'ndbd default')?.values.noofreplicas;
    expect(Number(replicas), 'two replicas on the two data nodes').to.equal(dataNodes.length);
    const slots = ini.filter((s) => s.section === 'mysqld');
    expect(slots.length, 'an API slot per SQL node').to.be.at.least(sqlNodes.length);
    for (const slot of slots) if (slot.values.hostname) expect(sqlNodes).to.include(slot.values.hostname);
    // Containers are in DNS only while they run; the management node starts before the others.
    const tcp = ini.find((s) => s.section === 'tcp default')?.values.allowunresolvedhostnames;
    expect(tcp).to.match(/^(true|1)$/i);
  });

  it('points the SQL nodes at the management node with ndbcluster on', async () => {
    const cnf = parseIni(await readFile(new URL('config/ndb/my.cnf', root), 'utf8'));
    const mysqld = cnf.find((s) => s.section === 'mysqld')?.values ?? {};
    expect(mysqld).to.have.property('ndbcluster');
    expect(mysqld['ndb-connectstring']).to.equal('ndb-mgmd:1186');
    for (const name of sqlNodes) {
      const env = service(name).environment ?? {};
      expect(env.MYSQL_DATABASE, name).to.equal('memgate');
      expect(env.MYSQL_USER, name).to.equal(service('ndb-sql1').environment?.MYSQL_USER);
      expect(env.MYSQL_PASSWORD, name).to.equal(service('ndb-sql1').environment?.MYSQL_PASSWORD);
    }
  });

  it('has valid depends_on: known ndb services, health conditions only on services with a health check, completion only on one-shot services, no cycle', () => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string, path: string[]) => {
      expect(visiting.has(name), `dependency cycle ${[...path, name].join(' -> ')}`).to.equal(false);
      if (done.has(name)) return;
      visiting.add(name);
      for (const [target, { condition }] of Object.entries(service(name).depends_on ?? {})) {
        expect(compose.services, `${name} depends on ${target}`).to.have.property(target);
        expect(service(target).profiles, `${name} depends on ${target}, which must start with the ndb profile`).to.deep.equal(['ndb']);
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).to.include(condition);
        if (condition === 'service_healthy') expect(service(target).healthcheck?.test, `${target} needs a healthcheck`).to.not.equal(undefined);
        if (condition === 'service_completed_successfully') expect(service(target).restart, `${target} must be one-shot`).to.equal('no');
        visit(target, [...path, name]);
      }
      visiting.delete(name);
      done.add(name);
    };
    for (const name of ndbServices()) visit(name, []);
    // The start order that makes a cluster: management node, data nodes, SQL nodes, schema, gateways.
    for (const name of dataNodes) expect(service(name).depends_on?.['ndb-mgmd']?.condition).to.equal('service_healthy');
    for (const name of sqlNodes) {
      for (const data of dataNodes) expect(service(name).depends_on?.[data]?.condition, `${name} after ${data}`).to.equal('service_healthy');
    }
    for (const name of ['ndb-schema', 'ndb-gateway1', 'ndb-gateway2', 'ndb-sweeper']) {
      for (const sql of sqlNodes) expect(service(name).depends_on?.[sql]?.condition, `${name} after ${sql}`).to.equal('service_healthy');
    }
  });

  it('creates the NDB tables once through both SQL nodes, retrying for a while', () => {
    const words = scriptWords('ndb-schema');
    const at = words.indexOf('dist/src/cli/memgate.js');
    expect(words.slice(at - 1, at + 2)).to.deep.equal(['node', 'dist/src/cli/memgate.js', 'schema']);
    const args = words.slice(at + 2);
    expect(optionValue(args, '--engine')).to.equal('ndb');
    expect(sqlNodesOf('ndb-schema', args)).to.have.members(sqlNodes);
    expect(service('ndb-schema').restart).to.equal('no');
    expect(service('ndb-schema').image ?? service('ndb-schema').build).to.not.equal(undefined);
  });

  for (const [name, hostPort] of gateways) {
    it(`starts ${name} with engine ndb and both SQL nodes, published on 127.0.0.1:${hostPort}`, () => {
      const gateway = service(name);
      const args = commandOf(gateway);
      expect(args[0]).to.equal('serve');
      expect(optionValue(args, '--engine')).to.equal('ndb');
      expect(optionValue(args, '--host')).to.equal('0.0.0.0');
      expect(optionValue(args, '--port')).to.equal('11211');
      const nodes = sqlNodesOf(name, args);
      expect(nodes, 'each SQL node once').to.have.lengthOf(sqlNodes.length);
      expect(nodes).to.have.members(sqlNodes);
      expect(publishedPorts(gateway)).to.deep.equal([{ hostIp: '127.0.0.1', published: hostPort, target: 11211 }]);
      expect(gateway.depends_on?.['ndb-schema']?.condition).to.equal('service_completed_successfully');
      expect(gateway.image ?? gateway.build).to.not.equal(undefined);
    });
  }

  it('lets the two gateways prefer different SQL nodes (NDB takes writes on every SQL node)', () => {
    const first = gateways.map(([name]) => sqlNodesOf(name, commandOf(service(name)))[0]);
    expect(new Set(first).size).to.equal(gateways.length);
  });

  it('sweeps the NDB tables through both SQL nodes every few minutes, for ever', () => {
    const words = scriptWords('ndb-sweeper');
    expect(commandOf(service('ndb-sweeper')).join(' ')).to.match(/^trap 'exit 0' TERM INT; while true; do .* done$/);
    const at = words.indexOf('dist/src/cli/memgate.js');
    expect(words.slice(at - 1, at + 2)).to.deep.equal(['node', 'dist/src/cli/memgate.js', 'sweep']);
    const args = words.slice(at + 2);
    expect(optionValue(args, '--engine')).to.equal('ndb');
    expect(sqlNodesOf('ndb-sweeper', args)).to.have.members(sqlNodes);
    expect(Number(words[words.indexOf('sleep') + 1]), 'seconds between passes').to.be.within(60, 3600);
    expect(service('ndb-sweeper').ports ?? []).to.deep.equal([]);
  });

  it('publishes every port of the file on 127.0.0.1, each host port once', () => {
    const used = new Set<number>();
    for (const [name, s] of Object.entries(compose.services)) {
      for (const port of publishedPorts(s)) {
        expect(port.hostIp, `${name} publishes ${port.published} beyond loopback`).to.equal('127.0.0.1');
        expect(used.has(port.published), `host port ${port.published} published twice`).to.equal(false);
        used.add(port.published);
      }
    }
  });
});
