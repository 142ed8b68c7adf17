#!/usr/bin/env node
import type { Logger } from 'winston';
import { startApp } from '../app.js';
import { ConfigError, loadConfig } from '../config/load-config.js';
import type { GatewayConfig } from '../config/schema.js';
import { installSignalHandlers } from '../lifecycle/signals.js';
import { createLogger } from '../logging/create-logger.js';
import { applySchema, type Engine } from '../store/schema.js';
import { helpText } from './help.js';
import { runSweep, takeDryRunFlag } from './sweep-command.js';
import { withDatabase } from './with-database.js';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help' || rest.includes('--help')) {
    process.stdout.write(helpText());
    return command && command !== '--help' && command !== '-h' && command !== 'help' && !rest.includes('--help') ? 2 : 0;
  }
  if (command !== 'serve' && command !== 'schema' && command !== 'sweep') {
    process.stderr.write(`memgate: unknown command '${command}'\n\n${helpText()}`);
    return 2;
  }
  let config: GatewayConfig;
  // --dry-run belongs to sweep only; anywhere else it is an unknown option.
  const { dryRun, others } = command === 'sweep' ? takeDryRunFlag(rest) : { dryRun: false, others: rest };
  try {
    const { file, flags } = takeConfigFlag(others);
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
  if (command === 'sweep') return runSweep(config, logger, dryRun);

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

async function runSchema(config: GatewayConfig, logger: Logger): Promise<number> {
  // DDL on a large table may legitimately take long.
  return withDatabase(config, logger, Math.max(config.db.statementTimeoutMs, 600_000), async (pool) => {
    try {
      const created = await applySchema(pool, { engine: config.db.engine as Engine, table: config.db.table, onlyIfMissing: false }, logger);
      process.stdout.write(`schema ${created ? 'applied' : 'present'}: table ${config.db.table}\n`);
      return 0;
    } catch (error) {
      logger.error('schema failed', { error: (error as Error).message });
      return 1;
    }
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`memgate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
