// memcached's rules for an item, whatever protocol carried it: how long a key may be, when an
// exptime is relative, and what an item weighs against item_size_max. Parsers reject with them,
// handlers and the store apply them; each rule lives here once. A rule that a statement must
// judge on the row itself (under its lock, by the database clock) is written here in both
// forms side by side, TypeScript and the SQL fragment, so that changing it means changing
// this file only.

export const KEY_MAX_LENGTH = 250;

// ---- exptime -------------------------------------------------------------------------------

/** exptimes above this many seconds are absolute unix times (REALTIME_MAXDELTA). */
export const REALTIME_MAXDELTA = 60 * 60 * 24 * 30;

/**
 * The exptime rule as the two parameters of EXPIRY_SQL: 0 never expires, up to 30 days is
 * relative to now, larger is an absolute unix time, and negative is already expired.
 */
export function expiryParams(exptime: number): [relative: number, seconds: number] {
  if (exptime === 0) return [0, 0];
  // 1 is a time in 1970: expired for every reader, yet distinct from 0 (never).
  if (exptime < 0) return [0, 1];
  if (exptime <= REALTIME_MAXDELTA) return [1, exptime];
  return [0, exptime];
}

/** The absolute expiry of an exptime on the database clock, taking expiryParams(exptime). */
export const EXPIRY_SQL = 'IF(?, UNIX_TIMESTAMP(), 0) + ?';

/**
 * memcached's realtime() for an exptime, as an absolute unix time (`now`: the database clock):
 * 0 = never, 1 = already expired (negative or past absolute times), else the moment. What
 * EXPIRY_SQL computes, with a past moment shown as 1.
 */
export function absoluteExpiry(exptime: number, now: number): number {
  const [relative, seconds] = expiryParams(exptime);
  const at = relative ? now + seconds : seconds;
  if (at === 0) return 0;
  return at <= now ? 1 : at;
}

// ---- item size -----------------------------------------------------------------------------

/**
 * memcached's per-item overhead on 64-bit builds with CAS on: sizeof(item) (48) plus the
 * 8-byte CAS; the key adds nkey + 1, non-zero flags add 4 and the value its bytes plus the
 * CRLF (item_make_header). Counting it the same way makes "object too large" trip at exactly
 * the size memcached rejects.
 */
export const ITEM_HEADER_BYTES = 48 + 8;

/** The bytes an item is charged for its header and key. */
function fixedBytes(keyLength: number): number {
  return ITEM_HEADER_BYTES + keyLength + 1 + 2;
}

/** Total bytes memcached would charge for an item, compared against item_size_max. */
export function itemTotalSize(keyLength: number, flags: number, valueLength: number): number {
  return fixedBytes(keyLength) + (flags === 0 ? 0 : 4) + valueLength;
}

/**
 * The same size for a stored row growing by `added` value bytes (append, prepend): whether it
 * stays within item_size_max. The row's part (its value and flags) is judged in the statement;
 * its parameter is appendRoom(…), what the rest leaves of item_size_max.
 */
export const FITS_AFTER_APPEND_SQL = 'LENGTH(string_value) + IF(flags = 0, 0, 4) <= ?';

export function appendRoom(itemSizeMax: number, keyLength: number, added: number): number {
  return itemSizeMax - fixedBytes(keyLength) - added;
}
