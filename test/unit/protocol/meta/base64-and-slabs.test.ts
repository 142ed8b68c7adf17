import { expect } from 'chai';
import { decodeBase64Key, encodeBase64Key } from '../../../../src/protocol/meta/base64.js';
import { slabClass } from '../../../../src/protocol/meta/meta-serializer.js';

const decode = (text: string) => decodeBase64Key(Buffer.from(text, 'latin1'))?.toString('latin1') ?? null;

describe('meta base64 keys (memcached base64.c)', () => {
  it('decodes standard base64 and encodes with padding', () => {
    expect(decode('Zm9vYmFy')).to.equal('foobar');
    expect(decode('Zm9vYg==')).to.equal('foob');
    expect(decode('Zm9vYmE=')).to.equal('fooba');
    expect(encodeBase64Key(Buffer.from('foob'))).to.equal('Zm9vYg==');
  });

  it('skips bytes outside the alphabet, as memcached does', () => {
    expect(decode('Zm9v!YmFy')).to.equal('foobar');
    expect(decode('Zm\x019v')).to.equal('foo');
  });

  it('stops after the first padded block and ignores the rest', () => {
    expect(decode('YQ==Zm9v')).to.equal('a');
  });

  it('fails where memcached returns 0: nothing to decode, a partial block, three pad bytes', () => {
    expect(decode('')).to.equal(null);
    expect(decode('!!!!')).to.equal(null);
    expect(decode('Zm9')).to.equal(null);
    expect(decode('A===')).to.equal(null);
    expect(decode('====')).to.equal(null);
  });
});

describe('me slab classes (memcached 1.6.18 defaults)', () => {
  // `memcached -vv` prints these chunk sizes for -n 48 -f 1.25 and 1 MB pages.
  const sizes = [96, 120, 152, 192, 240, 304, 384, 480, 600, 752, 944, 1184, 1480, 1856, 2320, 2904, 3632, 4544,
    5680, 7104, 8880, 11104, 13880, 17352, 21696, 27120, 33904, 42384, 52984, 66232, 82792, 103496, 129376, 161720,
    202152, 252696, 315872, 394840, 524288];

  it('puts an item in the first class whose chunks hold it', () => {
    sizes.forEach((size, i) => {
      expect(slabClass(size), `size ${size}`).to.equal(i + 1);
      expect(slabClass(size + 1), `size ${size + 1}`).to.equal(Math.min(i + 2, sizes.length));
    });
    expect(slabClass(1)).to.equal(1);
  });

  it('names the largest class for items stored in chunks', () => {
    expect(slabClass(1024 * 1024)).to.equal(39);
  });
});
