import { readFileSync } from 'node:fs';

/** The memcached protocol level we answer for; clients switch behaviour on it. */
export const PROTOCOL_VERSION = '1.6.18';

export function memgateVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** What `version` answers: memcached's level first, e.g. 1.6.18-memgate-0.1.0. */
export function reportedVersion(): string {
  return `${PROTOCOL_VERSION}-memgate-${memgateVersion()}`;
}
