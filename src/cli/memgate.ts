#!/usr/bin/env node
import cluster from 'node:cluster';
import type { Logger } from 'winston';
import { startApp } from '../app.js';
import { startPrimary } from '../cluster/primary.js';
import { primaryServices } from '../cluster/primary-services.js';
import { followPrimary, workerRole } from '../cluster/worker.js';
import { ConfigError, loadConfig } from '../config/load-config.js';
import type { GatewayConfig } from '../config/schema.js';
import { installSignalHandlers } from '../lifecycle/signals.js';
import { createLogger } from '../logging/create-logger.js';
import { applySchema, type Engine } from '../store/schema.js';
import { helpText, usageText } from './help.js';
import { applySessionViews } from './session-views.js';
import { runSweep } from './sweep-command.js';
import { withDatabase } from './with-database.js';

/** The commands and the switches only they take; anything else after the command is a setting. */
const COMMANDS = { serve: [], schema: ['--sessions'], sweep: ['--dry-run'] } as const satisfies Record<string, readonly string[]>;
type Command = keyof typeof COMMANDS;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const wantsHelp = (arg: string | undefined) => arg === '--help' || arg === '-h' || arg === 'help';
  if (wantsHelp(command) || rest.some(wantsHelp)) {
    process.stdout.write(helpText());
    return 0;
  }
  if (!command) {
    process.stderr.write(usageText());
    return 2;
  }
  if (!(command in COMMANDS)) {
    process.stderr.write(`memgate: unknown command '${command}'\n${usageText()}`);
    return 2;
  }
  const switches = new Set<string>(COMMANDS[command as Command]);
  const given = new Set(rest.filter((arg) => switches.has(arg)));
  let config: GatewayConfig;
  try {
    const { file, flags } = takeConfigFlag(rest.filter((arg) => !switches.has(arg)));
    config = loadConfig({ argv: flags, file });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`memgate: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger(config.log);
  if (command === 'schema') return runSchema(config, logger, given.has('--sessions'));
  if (command === 'sweep') return runSweep(config, logger, given.has('--dry-run'));

  if (config.workers.count > 1 && cluster.isPrimary) return runPrimary(config, logger);
  const worker = workerRole(process.env, config.workers.count);
  if (worker) config = { ...config, db: { ...config.db, url: worker.databaseUrl } };

  // Handlers go in before start-up, so a signal while the embedded database starts still
  // stops everything in order once start-up is done.
  const starting = startApp(config, logger, worker ?? undefined);
  const stop = () => starting.then((app) => app.stop());
  if (worker) followPrimary(stop, logger);
  else installSignalHandlers(stop, logger);
  try {
    await starting;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`memgate: ${error.message}\n`);
      return 2;
    }
    const hint = listenHint(error, config);
    if (!hint) throw error;
    process.stderr.write(`memgate: ${hint}\n`);
    return 1;
  }
  return new Promise<number>(() => undefined);
}

/** The sentence for a port or address the gateway cannot listen on, naming the flag that fixes it. */
function listenHint(error: unknown, config: GatewayConfig): string | undefined {
  const address = `${config.listen.host}:${config.listen.port}`;
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE': return `${address} is in use (another memgate or memcached?); choose another with --port`;
    case 'EACCES': return `no permission to listen on ${address} (ports below 1024 need root); choose another with --port`;
    case 'EADDRNOTAVAIL': return `cannot listen on ${address}: no such address on this machine; choose another with --host`;
    case 'ENOTFOUND': case 'EAI_AGAIN': return `cannot listen on ${address}: unknown host name; choose another with --host`;
    default: return undefined;
  }
}

/** `serve --workers N`: the primary runs until its workers have stopped for good. */
async function runPrimary(config: GatewayConfig, logger: Logger): Promise<number> {
  // As for a lone gateway: a signal while the embedded database starts stops it in order.
  const starting = startPrimary(config, logger, primaryServices(config));
  installSignalHandlers(() => starting.then((primary) => primary.stop()), logger);
  try {
    return await (await starting).done;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`memgate: ${error.message}\n`);
    return 2;
  }
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

async function runSchema(config: GatewayConfig, logger: Logger, sessions: boolean): Promise<number> {
  const table = config.db.table;
  // DDL on a large table may legitimately take long.
  return withDatabase(config, logger, Math.max(config.db.statementTimeoutMs, 600_000), async (pool) => {
    try {
      const created = await applySchema(pool, { engine: config.db.engine as Engine, table, onlyIfMissing: false }, logger);
      process.stdout.write(`schema ${created ? 'applied' : 'present'}: table ${table}\n`);
      if (sessions) process.stdout.write(`session views applied: ${(await applySessionViews(pool, table)).join(', ')}\n`);
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
