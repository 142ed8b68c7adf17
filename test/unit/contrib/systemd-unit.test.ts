import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { checkValue } from '../../../src/config/formats.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { configSchema } from '../../../src/config/schema.js';
import { settings } from '../../../src/config/settings.js';

const root = new URL('../../../../', import.meta.url);

/** [Section] → key → values, in file order (a key may repeat). */
async function readUnit(file: string): Promise<Map<string, Map<string, string[]>>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of (await readFile(new URL(file, root), 'utf8')).split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    expect(current, `${file}: ${line} before any section`).to.not.equal(undefined);
    current!.set(line.slice(0, eq), [...(current!.get(line.slice(0, eq)) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

describe('contrib/memgate.service', () => {
  let service: Map<string, string[]>;
  const one = (key: string) => {
    const values = service.get(key) ?? [];
    expect(values, key).to.have.length(1);
    return values[0]!;
  };

  before(async () => {
    const unit = await readUnit('contrib/memgate.service');
    service = unit.get('Service')!;
    expect(unit.get('Install')?.get('WantedBy')).to.deep.equal(['multi-user.target']);
  });

  it('runs memgate serve as its own user, with its socket in the runtime directory systemd makes for it', () => {
    expect(one('User')).to.equal('memgate');
    const exec = one('ExecStart').split(/\s+/);
    expect(exec.slice(0, 2)).to.deep.equal(['/usr/bin/memgate', 'serve']);
    const socket = exec[exec.indexOf('--socket') + 1]!;
    expect(socket).to.equal(`/run/${one('RuntimeDirectory')}/memgate.sock`);
    // The flags are memgate's, with values it accepts.
    const config = loadConfig({ env: {}, argv: exec.slice(2) });
    expect(config.listen.socket).to.equal(socket);
  });

  it('restarts after a crash but not after a configuration error (exit code 2)', () => {
    expect(one('Restart')).to.equal('on-failure');
    expect(one('RestartPreventExitStatus').split(/\s+/)).to.include('2');
  });

  it('lets the primary drain its workers: SIGTERM to it alone, for longer than the shutdown grace', () => {
    expect(one('KillMode')).to.equal('mixed');
    expect(one('KillSignal')).to.equal('SIGTERM');
    const graceSeconds = configSchema.listen.shutdownGraceMs.default / 1000;
    expect(Number(one('TimeoutStopSec').replace(/s$/, ''))).to.be.above(graceSeconds);
  });

  it('allows more open files than the connections memgate accepts by default', () => {
    expect(Number(one('LimitNOFILE'))).to.be.above(configSchema.listen.maxConnections.default);
  });

  it('its settings file holds only memgate\'s variables, with values memgate accepts', async () => {
    expect(one('EnvironmentFile')).to.equal('/etc/memgate/memgate.env');
    const known = new Map(settings().map((s) => [s.env, s]));
    const lines = (await readFile(new URL('contrib/memgate.env', root), 'utf8')).split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(lines.length).to.be.above(0);
    for (const line of lines) {
      const [name, value] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];
      const setting = known.get(name);
      expect(setting, `${name} in contrib/memgate.env is not a setting`).to.not.equal(undefined);
      expect(() => checkValue(setting!.format, value), `${name}=${value}`).to.not.throw();
    }
  });
});
