// Which keys are session locks: glob patterns over the key's bytes, where * stands for any run
// of bytes (sessions.lockKeys). The defaults are php-memcached's memc.sess.key.lock.<sid> and
// pecl memcache's <sid>.lock.

export type KeyMatcher = (key: Buffer) => boolean;

/** A matcher for comma-separated globs; an empty list matches nothing. */
export function lockKeyMatcher(globs: string): KeyMatcher {
  const matchers = globs.split(',').map((glob) => glob.trim()).filter((glob) => glob.length > 0).map(globMatcher);
  if (matchers.length === 0) return () => false;
  return (key) => matchers.some((matches) => matches(key));
}

function globMatcher(glob: string): KeyMatcher {
  const parts = glob.split('*').map((part) => Buffer.from(part, 'latin1'));
  // The common shapes, prefix* and *suffix, compare bytes without building a string per key.
  if (parts.length === 2 && parts[1]!.length === 0) return (key) => startsWith(key, parts[0]!);
  if (parts.length === 2 && parts[0]!.length === 0) return (key) => endsWith(key, parts[1]!);
  if (parts.length === 1) return (key) => key.equals(parts[0]!);
  const escaped = parts.map((part) => part.toString('latin1').replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pattern = new RegExp(`^${escaped.join('[^]*')}$`);
  return (key) => pattern.test(key.toString('latin1'));
}

function startsWith(key: Buffer, prefix: Buffer): boolean {
  return key.length >= prefix.length && key.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

function endsWith(key: Buffer, suffix: Buffer): boolean {
  return key.length >= suffix.length && key.compare(suffix, 0, suffix.length, key.length - suffix.length) === 0;
}
