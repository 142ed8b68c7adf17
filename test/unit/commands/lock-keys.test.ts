import { expect } from 'chai';
import { sessionKeys } from '../../../src/commands/lock-keys.js';

const matches = (globs: string, key: string | Buffer) => sessionKeys(globs, '').isLockKey(Buffer.isBuffer(key) ? key : Buffer.from(key, 'latin1'));

describe('sessionKeys: isLockKey (sessions.lockKeys)', () => {
  const defaults = 'memc.sess.key.lock.*,*.lock';

  it('recognises php-memcached\'s and pecl memcache\'s lock keys, and not their data keys', () => {
    expect(matches(defaults, 'memc.sess.key.lock.abc123')).to.equal(true);
    expect(matches(defaults, 'abc123.lock')).to.equal(true);
    expect(matches(defaults, 'memc.sess.key.abc123')).to.equal(false);
    expect(matches(defaults, 'abc123')).to.equal(false);
    expect(matches(defaults, 'abc123.locked')).to.equal(false);
    expect(matches(defaults, 'memc.sess.key.locks.abc')).to.equal(false);
  });

  it('takes * anywhere, as any run of bytes (none included), and other characters literally', () => {
    expect(matches('app:*:lock:*', 'app:1:lock:')).to.equal(true);
    expect(matches('app:*:lock:*', 'app::lock:x\r\ny')).to.equal(true);
    expect(matches('app:*:lock:*', 'app:1:lick:x')).to.equal(false);
    expect(matches('a.c*', 'abc')).to.equal(false);
    expect(matches('exact', 'exact')).to.equal(true);
    expect(matches('exact', 'exactly')).to.equal(false);
    expect(matches('*', 'anything')).to.equal(true);
  });

  it('compares bytes, so keys that are not valid UTF-8 match too', () => {
    expect(matches('*.lock', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('.lock')]))).to.equal(true);
  });

  it('matches nothing for an empty list, and ignores blanks around commas', () => {
    expect(matches('', 'x.lock')).to.equal(false);
    expect(matches(' , ', 'x.lock')).to.equal(false);
    expect(matches(' *.lock , memc.* ', 'x.lock')).to.equal(true);
  });
});

describe('sessionKeys (sessions.lockKeys with sessions.dataKeys)', () => {
  const keys = sessionKeys('memc.sess.key.lock.*,*.lock', 'memc.sess.key.*,*');
  const lockOf = (key: string) => {
    const found = keys.lockOfData(Buffer.from(key));
    return found && { lock: found.lock.toString(), specific: found.specific };
  };

  it('finds the lock of a session\'s data through the id that * matched, in pattern order', () => {
    expect(lockOf('memc.sess.key.abc')).to.deep.equal({ lock: 'memc.sess.key.lock.abc', specific: true });
    // pecl memcache's bare ids: any key could be one, so only its write pattern counts.
    expect(lockOf('abc')).to.deep.equal({ lock: 'abc.lock', specific: false });
    expect(lockOf('')).to.deep.equal({ lock: '.lock', specific: false });
  });

  it('has no data patterns when none are given', () => {
    expect(sessionKeys('*.lock', '').lockOfData(Buffer.from('abc'))).to.equal(null);
  });

  it('refuses patterns that do not pair up', () => {
    expect(() => sessionKeys('a.*,b.*', 'x.*')).to.throw('1 data key patterns for 2 lock key patterns');
    expect(() => sessionKeys('lock.*.*', 'data.*')).to.throw('exactly one *');
    expect(() => sessionKeys('lock.*', 'data')).to.throw('exactly one *');
  });
});
