// Limits memcached 1.6 enforces while reading the text protocol; our replies must hit the same edges.

/** A line with no newline after this many bytes is only tolerated for get/gets (try_read_command_ascii). */
export const MAX_LINE_WITHOUT_NEWLINE = 2048;
/**
 * memcached lets a multi-get line grow without bound; we stop at this size so one connection
 * cannot make the gateway buffer without limit (a line this long holds about a million keys).
 */
export const MAX_MULTIGET_LINE = 32 * 1024 * 1024;
/** memcached tokenises at most this many tokens at a time (MAX_TOKENS). */
export const MAX_TOKENS = 24;
