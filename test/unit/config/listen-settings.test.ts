import { expect } from 'chai';
import { helpText } from '../../../src/cli/help.js';
import { fileModeBits } from '../../../src/config/formats.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { configError, configFiles } from '../../helpers/config-files.js';

/** The settings of the unix socket, client TLS and the idle timeout, by their three names. */
describe('config: unix socket, client TLS and idle timeout settings', () => {
  const configFile = configFiles();
  const message = configError;

  it('are off by default: TCP only, no socket, no TLS, no idle timeout', () => {
    const config = loadConfig({ env: {} });
    expect(config.listen).to.include({ tcp: true, socket: '', socketMode: '700', idleTimeout: 0 });
    expect(config.tls).to.deep.equal({ cert: '', key: '', ca: '', plainToo: false });
  });

  it('are taken from flags', () => {
    const config = loadConfig({
      env: {},
      argv: ['--socket', '/run/memgate/memgate.sock', '--socket-mode', '0660', '--tcp', 'false', '--idle-timeout', '30',
        '--tls-cert', '/etc/memgate/cert.pem', '--tls-key', '/etc/memgate/key.pem', '--tls-ca', '/etc/memgate/ca.pem', '--tls-plain-too'],
    });
    expect(config.listen).to.include({ tcp: false, socket: '/run/memgate/memgate.sock', socketMode: '0660', idleTimeout: 30 });
    expect(config.tls).to.deep.equal({ cert: '/etc/memgate/cert.pem', key: '/etc/memgate/key.pem', ca: '/etc/memgate/ca.pem', plainToo: true });
  });

  it('are taken from MEMGATE_* variables and from a config file', () => {
    const fromEnv = loadConfig({
      env: { MEMGATE_SOCKET: '/tmp/m.sock', MEMGATE_SOCKET_MODE: '666', MEMGATE_TCP: '0', MEMGATE_IDLE_TIMEOUT: '5', MEMGATE_TLS_PLAIN_TOO: 'true' },
    });
    expect(fromEnv.listen).to.include({ tcp: false, socket: '/tmp/m.sock', socketMode: '666', idleTimeout: 5 });
    expect(fromEnv.tls.plainToo).to.equal(true);
    const file = configFile({ listen: { socket: '/tmp/f.sock', socketMode: 660, idleTimeout: 7 }, tls: { cert: 'c.pem', key: 'k.pem' } });
    const fromFile = loadConfig({ env: {}, file });
    expect(fromFile.listen).to.include({ socket: '/tmp/f.sock', idleTimeout: 7 });
    // A number in JSON is read as the octal digits it is written with, as memcached -a 660.
    expect(fileModeBits(fromFile.listen.socketMode)).to.equal(0o660);
    expect(fromFile.tls).to.include({ cert: 'c.pem', key: 'k.pem' });
  });

  it('reads socket modes in octal', () => {
    expect(fileModeBits('700')).to.equal(0o700);
    expect(fileModeBits('0660')).to.equal(0o660);
    expect(fileModeBits(777)).to.equal(0o777);
  });

  it('reject bad values, naming the setting', () => {
    expect(message({ env: {}, argv: ['--socket-mode', '800'] }))
      .to.equal('--socket-mode 800: not an octal file mode like 700 or 0660 [listen.socketMode, MEMGATE_SOCKET_MODE]');
    expect(message({ env: { MEMGATE_SOCKET_MODE: 'rw-rw----' } })).to.match(/^MEMGATE_SOCKET_MODE=rw-rw----: not an octal file mode.*\[listen\.socketMode, --socket-mode\]$/);
    expect(message({ env: {}, argv: ['--socket-mode', '7'] })).to.match(/not an octal file mode/);
    expect(message({ env: {}, argv: ['--idle-timeout', '-1'] })).to.equal('--idle-timeout -1: not a whole number (0 or more) [listen.idleTimeout, MEMGATE_IDLE_TIMEOUT]');
    expect(message({ env: { MEMGATE_IDLE_TIMEOUT: '10s' } })).to.match(/^MEMGATE_IDLE_TIMEOUT=10s: .*\[listen\.idleTimeout, --idle-timeout\]$/);
    expect(message({ env: {}, argv: ['--tcp', 'no'] })).to.equal('--tcp no: not true or false [listen.tcp, MEMGATE_TCP]');
    expect(message({ env: { MEMGATE_TLS_PLAIN_TOO: 'yes' } })).to.match(/\[tls\.plainToo, --tls-plain-too\]$/);
    expect(message({ env: {}, argv: ['--tls-cert'] })).to.equal('--tls-cert needs a value [tls.cert, MEMGATE_TLS_CERT]');
    const file = configFile({ listen: { socketMode: 1000 } }, 'bad.json');
    expect(message({ env: {}, file })).to.match(/^listen\.socketMode in .*bad\.json: not an octal file mode/);
  });

  it('are in --help', () => {
    const help = helpText();
    for (const flag of ['--socket <path>', '--socket-mode <mode>', '--tcp <true|false>', '--idle-timeout <n>', '--tls-cert <path>', '--tls-key <path>', '--tls-ca <path>', '--tls-plain-too <true|false>']) {
      expect(help).to.include(flag);
    }
  });
});
