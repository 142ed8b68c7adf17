import { startApp, type App } from '../../src/app.js';
import { loadConfig, type DeepPartial } from '../../src/config/load-config.js';
import type { ConfigShape, GatewayConfig } from '../../src/config/schema.js';
import { freshTableName, getTestDatabaseUrl, testLogger } from './database.js';

export interface RunningGateway {
  host: string;
  port: number;
  table: string;
  config: GatewayConfig;
  stop(): Promise<void>;
}

export interface StartGatewayOptions {
  /** settings as in config/default.json; db.table defaults to a fresh table per gateway */
  config?: DeepPartial<ConfigShape> | Record<string, unknown>;
}

/**
 * A real gateway on an ephemeral port against the test MariaDB. Each call gets a fresh table
 * unless config.db.table names one (two gateways sharing a table share the database).
 */
export async function startGateway(options: StartGatewayOptions = {}): Promise<RunningGateway> {
  const overrides = (options.config ?? {}) as DeepPartial<ConfigShape>;
  const table = overrides.db?.table ?? freshTableName('kv');
  const config = loadConfig({
    env: {},
    overrides: {
      ...overrides,
      listen: { port: 0, ...overrides.listen },
      db: { url: await getTestDatabaseUrl(), ...overrides.db, table },
    },
  });
  const app: App = await startApp(config, testLogger());
  const { host, port } = app.address();
  return { host, port, table, config, stop: () => app.stop() };
}
