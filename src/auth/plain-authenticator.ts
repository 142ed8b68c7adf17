import { createHash, timingSafeEqual } from 'node:crypto';
import type { SaslAuthenticator } from './sasl-session.js';
import type { ServerStats } from '../stats/server-stats.js';

const NUL = 0x00;

/**
 * SASL PLAIN (RFC 4616) against a fixed set of users, counted in auth_cmds/auth_errors like
 * memcached. As Cyrus SASL does for memcached, an authorization identity is accepted only when
 * it is empty or the user's own name.
 */
export class PlainAuthenticator implements SaslAuthenticator {
  readonly mechanisms = 'PLAIN';
  private readonly digests: Map<string, Buffer>;

  constructor(users: Map<string, Buffer>, private readonly stats: ServerStats) {
    this.digests = new Map([...users].map(([user, password]) => [user, digest(password)]));
  }

  verify(mechanism: string, response: Buffer): boolean {
    const ok = mechanism.toUpperCase() === 'PLAIN' && this.checkPlain(response);
    this.stats.count('auth_cmds');
    if (!ok) this.stats.count('auth_errors');
    return ok;
  }

  refused(): void {
    this.stats.count('auth_cmds');
    this.stats.count('auth_errors');
  }

  private checkPlain(response: Buffer): boolean {
    const first = response.indexOf(NUL);
    const second = first < 0 ? -1 : response.indexOf(NUL, first + 1);
    if (second < 0) return false;
    const authzid = response.subarray(0, first).toString('utf8');
    const user = response.subarray(first + 1, second).toString('utf8');
    const password = response.subarray(second + 1);
    if (authzid !== '' && authzid !== user) return false;
    const expected = this.digests.get(user);
    // Compare digests in constant time, and do the work even for an unknown user.
    const given = digest(password);
    return timingSafeEqual(given, expected ?? digest(Buffer.from('\0unknown user'))) && expected !== undefined;
  }
}

function digest(password: Buffer): Buffer {
  return createHash('sha256').update(password).digest();
}
