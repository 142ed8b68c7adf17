// Which keys are session locks, and which session data each lock protects: glob patterns over
// the key's bytes, where * stands for any run of bytes (sessions.lockKeys, sessions.dataKeys).
// The defaults are php-memcached's memc.sess.key.lock.<sid> for the data memc.sess.key.<sid>,
// and pecl memcache's <sid>.lock for the data <sid>.

export type KeyMatcher = (key: Buffer) => boolean;

/** Where a session's data key finds its lock key. */
export interface DataLock {
  lock: Buffer;
  /**
   * false for a data pattern that is a lone * (pecl memcache's bare session ids, which cannot
   * be told from other keys): such a key is only treated as session data when a request on
   * its lock follows it on the same connection, as pecl memcache sends its write.
   */
  specific: boolean;
}

export interface SessionKeys {
  isLockKey: KeyMatcher;
  /** the lock of a data key (the first data pattern that matches), or null */
  lockOfData(key: Buffer): DataLock | null;
}

/**
 * The session keys of comma-separated lock and data patterns, paired in order: the i-th data
 * pattern is the data the i-th lock protects, and the part matched by * is the session id.
 * Throws an Error saying what is wrong with the patterns.
 */
export function sessionKeys(lockGlobs: string, dataGlobs: string): SessionKeys {
  const locks = list(lockGlobs);
  const data = list(dataGlobs);
  if (data.length > 0 && data.length !== locks.length) {
    throw new Error(`${data.length} data key patterns for ${locks.length} lock key patterns; give one per lock key pattern, in the same order`);
  }
  const pairs = data.map((glob, i) => {
    const lock = splitOnce(locks[i]!);
    const dataParts = splitOnce(glob);
    if (!lock || !dataParts) throw new Error(`"${locks[i]}" and "${glob}": a lock key pattern and its data key pattern need exactly one * each`);
    return { data: dataParts, lock, specific: glob !== '*' };
  });
  const matchers = locks.map(globMatcher);
  return {
    isLockKey: matchers.length === 0 ? () => false : (key) => matchers.some((matches) => matches(key)),
    lockOfData(key) {
      for (const { data: [prefix, suffix], lock, specific } of pairs) {
        if (key.length < prefix.length + suffix.length || !startsWith(key, prefix) || !endsWith(key, suffix)) continue;
        const id = key.subarray(prefix.length, key.length - suffix.length);
        return { lock: Buffer.concat([lock[0], id, lock[1]]), specific };
      }
      return null;
    },
  };
}

function list(globs: string): string[] {
  return globs.split(',').map((glob) => glob.trim()).filter((glob) => glob.length > 0);
}

function splitOnce(glob: string): [Buffer, Buffer] | null {
  const parts = glob.split('*');
  return parts.length === 2 ? [Buffer.from(parts[0]!, 'latin1'), Buffer.from(parts[1]!, 'latin1')] : null;
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
