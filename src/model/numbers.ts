// memcached parses numbers with strtol/strtoul/strtoull wrapped in safe_* helpers (util.c).
// Their quirks are visible on the wire (leading blanks and '+' accepted, values truncated to
// 32 bits, "-0" accepted), so we reproduce glibc's behaviour instead of using Number().

const U64_MAX = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

/** C isspace() in the "C" locale. */
export function isSpaceByte(b: number | undefined): boolean {
  return b === 0x20 || (b !== undefined && b >= 0x09 && b <= 0x0d);
}

interface Scanned {
  negative: boolean;
  magnitude: bigint;
  /** index just past the last digit consumed */
  end: number;
}

/** Scans like strtoX: leading spaces, optional sign, decimal digits. null when no digits. */
function scan(text: Buffer, start: number, end: number): Scanned | null {
  let i = start;
  while (i < end && isSpaceByte(text[i])) i++;
  let negative = false;
  if (i < end && (text[i] === 0x2b || text[i] === 0x2d)) {
    negative = text[i] === 0x2d;
    i++;
  }
  const digitsStart = i;
  let magnitude = 0n;
  // Leading zeros are free; past 2^64 the value has overflowed and only the end index matters.
  while (i < end && text[i]! >= 0x30 && text[i]! <= 0x39) {
    if (magnitude <= U64_MAX) magnitude = magnitude * 10n + BigInt(text[i]! - 0x30);
    i++;
  }
  if (i === digitsStart) return null;
  return { negative, magnitude, end: i };
}

/**
 * safe_* accept the number only if it is followed by whitespace or the end of the C string,
 * which a NUL byte also ends.
 */
function followedByEnd(text: Buffer, index: number, end: number): boolean {
  return index >= end || text[index] === 0 || isSpaceByte(text[index]);
}

function hasMinus(text: Buffer, start: number, end: number): boolean {
  return text.subarray(start, end).includes(0x2d);
}

/** safe_strtoull: unsigned 64-bit. */
export function parseU64(text: Buffer, start = 0, end = text.length): bigint | null {
  const s = scan(text, start, end);
  if (!s || s.magnitude > U64_MAX || !followedByEnd(text, s.end, end)) return null;
  const value = s.negative ? (U64_MAX + 1n - s.magnitude) & U64_MAX : s.magnitude;
  if (value > I64_MAX && hasMinus(text, start, end)) return null;
  return value;
}

/** safe_strtoul: parsed as unsigned long (64-bit), then stored in a uint32_t. */
export function parseU32(text: Buffer, start = 0, end = text.length): number | null {
  const value = parseU64(text, start, end);
  return value === null ? null : Number(value & 0xffffffffn);
}

/** safe_strtol: parsed as long (64-bit), then stored in an int32_t. */
export function parseI32(text: Buffer, start = 0, end = text.length): number | null {
  const s = scan(text, start, end);
  if (!s || !followedByEnd(text, s.end, end)) return null;
  const value = s.negative ? -s.magnitude : s.magnitude;
  if (value > I64_MAX || value < I64_MIN) return null;
  return Number(BigInt.asIntN(32, value));
}
