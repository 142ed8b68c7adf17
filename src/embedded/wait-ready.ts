import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { connectionTarget, parseDatabaseUrl } from '../store/db-url.js';
import { isPermanentConnectError } from '../store/mysql-errors.js';

export interface WaitReadyOptions {
  url: string;
  timeoutMs: number;
  /** Returns a reason once the server process is known to be gone, so we stop waiting early. */
  exited(): string | undefined;
  errorLog: string;
}

export async function readTail(file: string, maxBytes = 4096): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, maxBytes);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      const text = buffer.toString('utf8');
      // Drop the probably-partial first line.
      return length < size ? text.slice(text.indexOf('\n') + 1) : text;
    } finally {
      await handle.close();
    }
  } catch {
    return '(no error log)';
  }
}

async function canQuery(url: string): Promise<void> {
  const connection = await mysql.createConnection({ ...connectionTarget(parseDatabaseUrl(url)), connectTimeout: 2_000 });
  try {
    await connection.query('SELECT 1');
  } finally {
    await connection.end();
  }
}

/** Polls with a real login, because the port opening does not mean the init file has run. */
export async function waitUntilReady(opts: WaitReadyOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError = 'no attempt made';
  for (;;) {
    const exitReason = opts.exited();
    if (exitReason !== undefined) {
      throw new Error(`embedded MariaDB ${exitReason} before accepting connections. Tail of ${opts.errorLog}:\n${await readTail(opts.errorLog)}`);
    }
    try {
      await canQuery(opts.url);
      return;
    } catch (err) {
      lastError = (err as Error).message;
      // The server runs its init file before serving any connection, so a refused login never
      // clears up by waiting.
      if (isPermanentConnectError(err)) {
        throw new Error(`embedded MariaDB refused our login: ${lastError}. Tail of ${opts.errorLog}:\n${await readTail(opts.errorLog)}`);
      }
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `embedded MariaDB did not accept connections within ${opts.timeoutMs} ms (last error: ${lastError}). ` +
          `Tail of ${opts.errorLog}:\n${await readTail(opts.errorLog)}`,
      );
    }
    await sleep(100);
  }
}
