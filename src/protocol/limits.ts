// Limits memcached 1.6 enforces on the wire; our replies must hit the same edges.
export const KEY_MAX_LENGTH = 250;
/** A line with no newline after this many bytes is only tolerated for get/gets (try_read_command_ascii). */
export const MAX_LINE_WITHOUT_NEWLINE = 2048;
/**
 * memcached lets a multi-get line grow without bound; we stop at this size so one connection
 * cannot make the gateway buffer without limit (a line this long holds about a million keys).
 */
export const MAX_MULTIGET_LINE = 32 * 1024 * 1024;
/** memcached tokenises at most this many tokens at a time (MAX_TOKENS). */
export const MAX_TOKENS = 24;
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
