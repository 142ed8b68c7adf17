import { expect } from 'chai';
import { parsePasswordFile } from '../../src/auth/password-file.js';
import { PlainAuthenticator } from '../../src/auth/plain-authenticator.js';
import { ServerStats } from '../../src/stats/server-stats.js';

describe('SASL PLAIN authentication', () => {
  it('reads username:password lines as memcached\'s password database does', () => {
    const users = parsePasswordFile('# users\nalice:s3cret\n\nbob:pa ss:extra field\r\n', 'pw');
    expect([...users.keys()]).to.deep.equal(['alice', 'bob']);
    expect(users.get('alice')!.toString()).to.equal('s3cret');
    expect(users.get('bob')!.toString()).to.equal('pa ss');
  });

  it('refuses a file with no users or a line without a colon, without echoing its contents', () => {
    expect(() => parsePasswordFile('\n# nothing\n', 'pw')).to.throw('pw: no username:password lines');
    expect(() => parsePasswordFile('alice:ok\nhunter2\n', 'pw')).to.throw(/^pw line 2: expected username:password$/);
  });

  it('accepts the right password, an empty or matching authzid, and counts attempts', () => {
    const stats = new ServerStats();
    const auth = new PlainAuthenticator(new Map([['alice', Buffer.from('s3cret')]]), stats);
    const plain = (s: string) => Buffer.from(s, 'utf8');
    expect(auth.verify('PLAIN', plain('\0alice\0s3cret'))).to.equal(true);
    expect(auth.verify('PLAIN', plain('alice\0alice\0s3cret'))).to.equal(true);
    expect(auth.verify('PLAIN', plain('bob\0alice\0s3cret')), 'another authzid').to.equal(false);
    expect(auth.verify('PLAIN', plain('\0alice\0s3cre')), 'wrong password').to.equal(false);
    expect(auth.verify('PLAIN', plain('\0mallory\0s3cret')), 'unknown user').to.equal(false);
    expect(auth.verify('PLAIN', plain('\0alice')), 'malformed').to.equal(false);
    expect(auth.verify('CRAM-MD5', plain('\0alice\0s3cret')), 'other mechanism').to.equal(false);
    expect(stats.counters.auth_cmds).to.equal(7);
    expect(stats.counters.auth_errors).to.equal(5);
  });
});
