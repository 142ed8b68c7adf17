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
  await waitForSchema(host, port);
  return { host, port, table, config, stop: () => app.stop() };
}

/** The table is created in the background at start-up; a stats round trip shows it exists. */
async function waitForSchema(host: string, port: number): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + 15000;
  for (;;) {
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(port, host, () => socket.write('get memgate-schema-probe\r\n'));
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk.toString('latin1');
        if (data.endsWith('\r\n')) {
          socket.destroy();
          resolve(data);
        }
      });
      socket.on('error', () => resolve('error'));
    });
    if (reply === 'END\r\n') return;
    if (Date.now() > deadline) throw new Error(`gateway not ready: ${reply}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
