import { readFile } from 'node:fs/promises';

/**
 * Reads a SASL password file in the format of memcached's MEMCACHED_SASL_PWDB: one
 * `username:password` per line; anything after a further ':' is ignored, as memcached does.
 * Blank lines and lines starting with '#' are skipped. Passwords never leave this module
 * except as the map handed to the authenticator, and are never logged.
 */
export async function readPasswordFile(path: string): Promise<Map<string, Buffer>> {
  const text = await readFile(path, 'utf8');
  return parsePasswordFile(text, path);
}

export function parsePasswordFile(text: string, source: string): Map<string, Buffer> {
  const users = new Map<string, Buffer>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`${source} line ${index + 1}: expected username:password`);
    const user = line.slice(0, colon);
    const rest = line.slice(colon + 1);
    const end = rest.indexOf(':');
    users.set(user, Buffer.from(end < 0 ? rest : rest.slice(0, end), 'utf8'));
  });
  if (users.size === 0) throw new Error(`${source}: no username:password lines`);
  return users;
}
