import { expect } from 'chai';
import { applyDelta } from '../../../src/store/arithmetic.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('applyDelta (memcached do_add_delta)', () => {
  it('increments and wraps at 2^64', () => {
    expect(applyDelta(b('1'), true, 1n)?.value).to.equal(2n);
    expect(applyDelta(b('18446744073709551615'), true, 1n)?.value).to.equal(0n);
    expect(applyDelta(b('18446744073709551615'), true, 1n)?.stored.toString()).to.equal('0                   ');
  });

  it('decrements and stops at zero', () => {
    expect(applyDelta(b('5'), false, 7n)?.value).to.equal(0n);
    expect(applyDelta(b('5'), false, 2n)?.value).to.equal(3n);
  });

  it('pads a shorter result with spaces to the old length, as memcached writes in place', () => {
    expect(applyDelta(b('10'), false, 1n)?.stored.toString()).to.equal('9 ');
    expect(applyDelta(b('100'), false, 91n)?.stored.toString()).to.equal('9  ');
  });

  it('grows the value when the result is longer', () => {
    expect(applyDelta(b('99'), true, 1n)?.stored.toString()).to.equal('100');
  });

  it('reads values with leading blanks or trailing text after a space', () => {
    expect(applyDelta(b(' 7'), true, 1n)?.value).to.equal(8n);
    expect(applyDelta(b('12 34'), true, 34n)?.stored.toString()).to.equal('46   ');
  });

  it('stops reading at a NUL byte, where the C string ends', () => {
    expect(applyDelta(b('1\0junk'), true, 1n)?.value).to.equal(2n);
  });

  it('refuses empty and non-numeric values', () => {
    expect(applyDelta(b(''), true, 1n)).to.equal(null);
    expect(applyDelta(b('abc'), true, 1n)).to.equal(null);
    expect(applyDelta(b('12abc'), true, 1n)).to.equal(null);
    expect(applyDelta(b('-1'), true, 1n)).to.equal(null);
  });
});
