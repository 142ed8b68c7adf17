// Base64 keys of the meta protocol (the 'b' flag), decoded the way memcached 1.6.18's base64.c
// does it: bytes outside the alphabet are skipped, the count of the others must be a multiple
// of four, and decoding stops after the first block holding padding. Its results, including
// what it accepts that a strict decoder would not, are visible to clients as keys.

const INVALID = 0x80;

const DECODE_TABLE = (() => {
  const table = new Uint8Array(256).fill(INVALID);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  table[0x3d] = 0; // '=' decodes as zero bits, then the padding is taken off the block
  return table;
})();

/** base64_decode: the decoded bytes, or null where memcached's decoder returns 0 (failure). */
export function decodeBase64Key(text: Buffer): Buffer | null {
  let count = 0;
  for (const byte of text) if (DECODE_TABLE[byte] !== INVALID) count++;
  if (count === 0 || count % 4 !== 0) return null;
  const out = Buffer.alloc((count / 4) * 3);
  const block = [0, 0, 0, 0];
  let length = 0;
  let filled = 0;
  let pad = 0;
  for (const byte of text) {
    const bits = DECODE_TABLE[byte]!;
    if (bits === INVALID) continue;
    if (byte === 0x3d) pad++;
    block[filled++] = bits;
    if (filled < 4) continue;
    out[length++] = ((block[0]! << 2) | (block[1]! >> 4)) & 0xff;
    out[length++] = ((block[1]! << 4) | (block[2]! >> 2)) & 0xff;
    out[length++] = ((block[2]! << 6) | block[3]!) & 0xff;
    filled = 0;
    if (pad > 0) {
      if (pad > 2) return null;
      length -= pad;
      break;
    }
  }
  return length === 0 ? null : out.subarray(0, length);
}

/** base64_encode: standard alphabet with '=' padding, as Node writes it too. */
export function encodeBase64Key(key: Buffer): string {
  return key.toString('base64');
}
