import type { Context } from 'mocha';
import { stopTestDatabase } from './database.js';

/** Registered in .mocharc.json so the shared test database goes away with the run. */
export const mochaHooks = {
  async afterAll(this: Context): Promise<void> {
    this.timeout(60_000);
    await stopTestDatabase();
  },
};
