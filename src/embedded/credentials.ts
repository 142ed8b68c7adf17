import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';

export const EMBEDDED_USER = 'memgate';

// Hex keeps the password safe to embed in a URL and in SQL without escaping.
const PASSWORD_PATTERN = /^[0-9a-f]{32,}$/;

/** Reuses the password from an earlier start so that URLs handed out before stay valid. */
export async function readOrCreatePassword(file: string): Promise<string> {
  const existing = await readPassword(file);
  if (existing !== undefined) return existing;
  const password = randomBytes(24).toString('hex');
  try {
    // 'wx' so that two processes racing on a fresh dataDir agree on one password.
    await writeFile(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
    return password;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const winner = await readPassword(file);
    if (winner === undefined) throw err;
    return winner;
  }
}

async function readPassword(file: string): Promise<string | undefined> {
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (!PASSWORD_PATTERN.test(existing)) {
      throw new Error(`${file} does not hold a password written by memgate; delete it to generate a new one`);
    }
    await chmod(file, 0o600);
    return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
