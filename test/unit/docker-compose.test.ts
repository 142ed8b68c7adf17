import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { load } from 'js-yaml';

// The compose file is for users with Docker; we cannot run it here, so pin down its shape instead.

interface Service {
  image?: string;
  build?: unknown;
  entrypoint?: string[] | string;
  command?: string[] | string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: Array<string | { target: number; published: number | string; host_ip?: string }>;
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
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

describe('docker-compose.yml', () => {
  let compose: Compose;

  before(async () => {
    compose = load(await readFile(new URL('docker-compose.yml', root), 'utf8')) as Compose;
  });

  function service(name: string): Service {
    const found = compose.services[name];
    expect(found, `service ${name}`).to.be.an('object');
    return found as Service;
  }

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

  it('has exactly the mysql, schema, two gateway and sweeper services', () => {
    expect(Object.keys(compose.services)).to.have.members(['mysql', 'schema', 'gateway1', 'gateway2', 'sweeper']);
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

  it('builds an image whose entrypoint is the memgate CLI', async () => {
    const dockerfile = await readFile(new URL('Dockerfile', root), 'utf8');
    expect(dockerfile).to.match(/^FROM node:20-bookworm-slim\b/m);
    expect(dockerfile).to.match(/npm ci/);
    expect(dockerfile).to.match(/npm prune --omit=dev/);
    expect(dockerfile).to.match(/^ENTRYPOINT \["node", "dist\/src\/cli\/memgate\.js"\]$/m);
  });
});
