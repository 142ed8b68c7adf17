import { readFileSync } from 'node:fs';
import convict from 'convict';
import { redactDatabaseUrl } from '../store/db-url.js';
import { checkValue, FORMATS } from './formats.js';
import { configSchema, type ConfigShape, type GatewayConfig } from './schema.js';
import { otherNames, settings, type Setting } from './settings.js';

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

const DEFAULTS_FILE = new URL('../../../config/default.json', import.meta.url).pathname;

/**
 * defaults < config/default.json < --config file < MEMGATE_* environment < flags < overrides.
 * Each flag, variable and file value is checked where it is read, so that an error names it as
 * the user wrote it, together with the setting's other two names.
 */
export function loadConfig(input: LoadConfigInput = {}): GatewayConfig {
  const all = settings();
  const flagValues = readFlags(input.argv ?? [], all);
  const envValues = readEnvironment(input.env ?? process.env, all);
  const config = convict(configSchema, { args: [], env: {} });
  for (const file of [DEFAULTS_FILE, ...(input.file ? [input.file] : [])]) config.load(readConfigFile(file, all));
  for (const [setting, value] of [...envValues, ...flagValues]) config.set(setting.key as never, value as never);
  for (const [path, value] of leaves(input.overrides ?? {})) config.set(path as never, value as never);
  try {
    config.validate({ allowed: 'strict' });
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${(error as Error).message}`);
  }
  return Object.freeze(config.getProperties()) as GatewayConfig;
}

/** A value as an error message may show it: passwords masked, blanks visible. */
function shown(setting: Setting, value: string): string {
  const text = setting.sensitive ? redactDatabaseUrl(value) : value;
  return text === '' || /\s/.test(text) ? JSON.stringify(text) : text;
}

function check(setting: Setting, value: unknown, where: string, given: 'key' | 'flag' | 'env'): unknown {
  try {
    return checkValue(setting.format, value);
  } catch (error) {
    throw new ConfigError(`${where}: ${(error as Error).message} ${otherNames(setting, given)}`);
  }
}

function readFlags(argv: string[], all: Setting[]): Array<[Setting, unknown]> {
  const byFlag = new Map(all.filter((s) => s.flag).map((s) => [s.flag!, s]));
  const values: Array<[Setting, unknown]> = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument '${arg}' (options start with --; memgate --help lists them)`);
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const setting = byFlag.get(flag);
    if (!setting) throw new ConfigError(unknownFlag(flag, [...byFlag.keys()]));
    let value = eq < 0 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        value = next;
        i++;
      } else if (setting.format === FORMATS.bool) {
        value = 'true'; // a bare boolean flag turns the setting on
      } else {
        throw new ConfigError(`${flag} needs a value ${otherNames(setting, 'flag')}`);
      }
    }
    values.push([setting, check(setting, value, `${flag} ${shown(setting, value)}`, 'flag')]);
  }
  return values;
}

function readEnvironment(env: NodeJS.ProcessEnv, all: Setting[]): Array<[Setting, unknown]> {
  return all.filter((s) => env[s.env] !== undefined).map((s) => {
    const value = env[s.env]!;
    return [s, check(s, value, `${s.env}=${shown(s, value)}`, 'env')];
  });
}

function readConfigFile(file: string, all: Setting[]): object {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  if (!isObject(parsed)) throw new ConfigError(`config file ${file}: not a JSON object of settings (see config/example.json)`);
  const byKey = new Map(all.map((s) => [s.key, s]));
  const groups = new Set(all.flatMap((s) => s.key.split('.').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('.'))));
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [name, value] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${name}` : name;
      const setting = byKey.get(key);
      if (setting) check(setting, value, `${key} in ${file}`, 'key');
      else if (groups.has(key) && isObject(value)) walk(value, key);
      else throw new ConfigError(`${key} in ${file}: not a setting (memgate --help lists them)`);
    }
  };
  walk(parsed, '');
  return parsed;
}

/** "unknown option --prot; did you mean --port? (memgate --help lists the options)" */
function unknownFlag(flag: string, known: string[]): string {
  const near = known.filter((k) => editDistance(flag, k) <= 2).sort((a, b) => editDistance(flag, a) - editDistance(flag, b));
  const guess = near.length > 0 ? `; did you mean ${near[0]}?` : '';
  return `unknown option ${flag}${guess} (memgate --help lists the options)`;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function leaves(node: object, prefix = ''): Array<[string, unknown]> {
  return Object.entries(node).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return value !== null && typeof value === 'object' ? leaves(value as object, path) : [[path, value] as [string, unknown]];
  });
}
