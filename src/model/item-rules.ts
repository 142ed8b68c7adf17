// memcached's rules for an item, whatever protocol carried it: how long a key may be, when an
// exptime is relative, and what an item weighs against item_size_max. Parsers reject with them,
// handlers and the store apply them; each rule lives here once.

export const KEY_MAX_LENGTH = 250;
/** exptimes above this many seconds are absolute unix times (REALTIME_MAXDELTA). */
export const REALTIME_MAXDELTA = 60 * 60 * 24 * 30;
/**
 * memcached's per-item overhead on 64-bit builds with CAS on: sizeof(item) (48) plus the
 * 8-byte CAS; the key adds nkey + 1 and non-zero flags add 4 (item_make_header). Counting
 * it the same way makes "object too large" trip at exactly the size memcached rejects.
 */
export const ITEM_HEADER_BYTES = 48 + 8;

/** Total bytes memcached would charge for an item, compared against item_size_max. */
export function itemTotalSize(keyLength: number, flags: number, valueLength: number): number {
  return ITEM_HEADER_BYTES + keyLength + 1 + (flags === 0 ? 0 : 4) + valueLength + 2;
}
