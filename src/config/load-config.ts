import convict from 'convict';
import { configSchema, type ConfigShape, type GatewayConfig } from './schema.js';

export interface LoadConfigInput {
  /** command-line flags, e.g. ['--port', '11311'] (no command word) */
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  /** a JSON config file (--config) */
  file?: string;
  /** programmatic overrides (tests, embedding), applied last */
  overrides?: DeepPartial<ConfigShape>;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Thrown for bad configuration; the message names the setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Flags every command accepts, from the schema's `arg` names. */
export function knownFlags(): Map<string, string> {
  const flags = new Map<string, string>();
  const walk = (node: Record<string, unknown>, path: string[]) => {
    for (const [key, value] of Object.entries(node)) {
      const entry = value as Record<string, unknown>;
      if ('default' in entry) {
        if (typeof entry.arg === 'string') flags.set(entry.arg, [...path, key].join('.'));
      } else {
        walk(entry, [...path, key]);
      }
    }
  };
  walk(configSchema as unknown as Record<string, unknown>, []);
  return flags;
}

/** defaults < config/default.json < --config file < MEMGATE_* environment < flags < overrides */
export function loadConfig(input: LoadConfigInput = {}): GatewayConfig {
  const argv = input.argv ?? [];
  const known = knownFlags();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument: ${arg}`);
    const name = arg.slice(2).split('=')[0]!;
    if (!known.has(name)) throw new ConfigError(`unknown option --${name} (see memgate --help)`);
    if (!arg.includes('=')) i++;
  }
  const config = convict(configSchema, { args: argv, env: input.env ?? process.env });
  try {
    const defaults = new URL('../../../config/default.json', import.meta.url);
    config.loadFile(defaults.pathname);
    if (input.file) config.loadFile(input.file);
  } catch (error) {
    throw new ConfigError(`cannot read config file: ${(error as Error).message}`);
  }
  // convict re-applies env and args after each file, so they keep precedence over files.
  for (const [path, value] of leaves(input.overrides ?? {})) {
    config.set(path as never, value as never);
  }
  try {
    config.validate({ allowed: 'strict' });
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${(error as Error).message}`);
  }
  return Object.freeze(config.getProperties()) as GatewayConfig;
}

function leaves(node: object, prefix = ''): Array<[string, unknown]> {
  return Object.entries(node).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return value !== null && typeof value === 'object' ? leaves(value as object, path) : [[path, value] as [string, unknown]];
  });
}
