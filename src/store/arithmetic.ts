import { parseU64 } from '../model/numbers.js';

const U64_MASK = (1n << 64n) - 1n;
const CRLF = Buffer.from('\r\n');

/**
 * memcached's do_add_delta on a stored value: the value must read as an unsigned decimal
 * (strtoull over the data and its trailing \r\n), incr wraps at 2^64 and decr stops at 0.
 * A result no longer than the old value is written in place and padded with spaces, exactly
 * as memcached does, so a later get returns the same bytes.
 */
export function applyDelta(current: Buffer, incr: boolean, delta: bigint): { value: bigint; stored: Buffer } | null {
  if (current.length === 0) return null;
  const value = parseU64(Buffer.concat([current, CRLF]), 0, current.length + 1);
  if (value === null) return null;
  const next = incr ? (value + delta) & U64_MASK : delta > value ? 0n : value - delta;
  const digits = next.toString();
  const stored = digits.length <= current.length ? digits.padEnd(current.length, ' ') : digits;
  return { value: next, stored: Buffer.from(stored, 'latin1') };
}
