#!/usr/bin/env node
import { startApp } from '../app.js';
import { ConfigError, loadConfig } from '../config/load-config.js';
import type { GatewayConfig } from '../config/schema.js';
import { startEmbeddedMariadb } from '../embedded/mariadb.js';
import { installSignalHandlers } from '../lifecycle/signals.js';
import { createLogger } from '../logging/create-logger.js';
import { parseDatabaseUrl } from '../store/db-url.js';
import { createDatabasePool } from '../store/pool.js';
import { applySchema } from '../store/schema.js';
import { helpText } from './help.js';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help' || rest.includes('--help')) {
    process.stdout.write(helpText());
    return command && command !== '--help' && command !== '-h' && command !== 'help' && !rest.includes('--help') ? 2 : 0;
  }
  if (command !== 'serve' && command !== 'schema') {
    process.stderr.write(`memgate: unknown command '${command}'\n\n${helpText()}`);
    return 2;
  }
  let config: GatewayConfig;
  try {
    const { file, flags } = takeConfigFlag(rest);
    config = loadConfig({ argv: flags, file });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`memgate: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger(config.log);
  if (command === 'schema') return runSchema(config, logger);

  // Handlers go in before start-up, so a signal while the embedded database starts still
  // stops everything in order once start-up is done.
  const starting = startApp(config, logger);
  installSignalHandlers(() => starting.then((app) => app.stop()), logger);
  try {
    await starting;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`memgate: ${error.message}\n`);
    return 2;
  }
  return new Promise<number>(() => undefined);
}

function takeConfigFlag(args: string[]): { file?: string; flags: string[] } {
  const flags: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--config') {
      file = args[++i];
      if (!file) throw new ConfigError('--config needs a file name');
    } else if (arg.startsWith('--config=')) {
      file = arg.slice('--config='.length);
    } else {
      flags.push(arg);
    }
  }
  return { file, flags };
}

async function runSchema(config: GatewayConfig, logger: ReturnType<typeof createLogger>): Promise<number> {
  let stopEmbedded: (() => Promise<void>) | null = null;
  let url = config.db.url;
  if (!url) {
    const embedded = await startEmbeddedMariadb({
      dataDir: config.embedded.dataDir, port: config.embedded.port, database: config.embedded.database, logger,
    });
    stopEmbedded = () => embedded.stop();
    url = embedded.url;
  }
  const pool = createDatabasePool({
    endpoint: parseDatabaseUrl(url), size: 1, acquireTimeoutMs: config.db.connectTimeoutMs * 2,
    connectTimeoutMs: config.db.connectTimeoutMs, idleTimeoutMs: 1000,
    // DDL on a large table may legitimately take long.
    statementTimeoutMs: Math.max(config.db.statementTimeoutMs, 600_000),
  }, logger);
  try {
    const created = await applySchema(pool, { engine: config.db.engine as 'innodb' | 'ndb', table: config.db.table, onlyIfMissing: false }, logger);
    process.stdout.write(`schema ${created ? 'applied' : 'present'}: table ${config.db.table}\n`);
    return 0;
  } catch (error) {
    logger.error('schema failed', { error: (error as Error).message });
    return 1;
  } finally {
    await pool.close();
    await stopEmbedded?.();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`memgate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
