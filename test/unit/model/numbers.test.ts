import { expect } from 'chai';
import { parseI32, parseU32, parseU64 } from '../../../src/model/numbers.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('numbers (memcached safe_strto* semantics)', () => {
  it('parseU64 reads unsigned 64-bit decimals and rejects overflow', () => {
    expect(parseU64(b('0'))).to.equal(0n);
    expect(parseU64(b('18446744073709551615'))).to.equal(18446744073709551615n);
    expect(parseU64(b('18446744073709551616'))).to.equal(null);
    expect(parseU64(b('99999999999999999999999'))).to.equal(null);
    expect(parseU64(b('00000000000000000000000000001'))).to.equal(1n);
  });

  it('parseU64 accepts what strtoull accepts: leading blanks, a plus sign, "-0"', () => {
    expect(parseU64(b('\t5'))).to.equal(5n);
    expect(parseU64(b('+5'))).to.equal(5n);
    expect(parseU64(b('-0'))).to.equal(0n);
  });

  it('parseU64 rejects negatives that wrap past 2^63, garbage and empty', () => {
    expect(parseU64(b('-1'))).to.equal(null);
    expect(parseU64(b('12abc'))).to.equal(null);
    expect(parseU64(b(''))).to.equal(null);
    expect(parseU64(b('abc'))).to.equal(null);
  });

  it('parseU64 stops at whitespace, as when reading an item followed by \\r\\n', () => {
    expect(parseU64(b('12 34'))).to.equal(12n);
    expect(parseU64(b('12\r'))).to.equal(12n);
  });

  it('parseU32 truncates to 32 bits like safe_strtoul storing into uint32_t', () => {
    expect(parseU32(b('4294967295'))).to.equal(4294967295);
    expect(parseU32(b('4294967296'))).to.equal(0);
    expect(parseU32(b('4294967297'))).to.equal(1);
    expect(parseU32(b('-1'))).to.equal(null);
  });

  it('parseI32 truncates a 64-bit long to int32 like safe_strtol', () => {
    expect(parseI32(b('-1'))).to.equal(-1);
    expect(parseI32(b('2147483647'))).to.equal(2147483647);
    expect(parseI32(b('2147483648'))).to.equal(-2147483648);
    expect(parseI32(b('4294967296'))).to.equal(0);
    expect(parseI32(b('9223372036854775808'))).to.equal(null);
    expect(parseI32(b('1x'))).to.equal(null);
  });
});
