import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';

/**
 * Writes config files for the suite it is called in (inside a describe), each under its own
 * name in one temporary directory that goes after the suite. Returns the file's path.
 */
export function configFiles(): (content: unknown, name?: string) => string {
  let dir: string | undefined;
  let count = 0;
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return (content, name = `config-${++count}.json`) => {
    dir ??= mkdtempSync(path.join(os.tmpdir(), 'memgate-config-'));
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(content));
    return file;
  };
}

/** The message loadConfig refuses `input` with, as a ConfigError; fails the test when it accepts it. */
export function configError(input: Parameters<typeof loadConfig>[0]): string {
  try {
    loadConfig(input);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as Error).message;
  }
  return expect.fail('should have thrown');
}
