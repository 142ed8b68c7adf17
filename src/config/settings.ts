import { formatOf, type FormatName, type SettingFormat } from './formats.js';
import { configSchema } from './schema.js';

/** One setting of the schema under its three names. */
export interface Setting {
  /** dotted key: listen.port (a --config file, error messages) */
  key: string;
  /** --port, or undefined when the setting has no flag */
  flag?: string;
  /** MEMGATE_PORT */
  env: string;
  doc: string;
  format: SettingFormat;
  default: unknown;
  sensitive: boolean;
}

interface SchemaEntry {
  doc: string;
  format: FormatName | readonly string[];
  default: unknown;
  env: string;
  arg?: string;
  sensitive?: boolean;
}

/** The settings in schema order: the one walk that loadConfig, --help and the docs share. */
export function settings(): Setting[] {
  const found: Setting[] = [];
  const walk = (node: Record<string, unknown>, path: string[]) => {
    for (const [name, value] of Object.entries(node)) {
      const entry = value as SchemaEntry;
      if (!('default' in entry)) {
        walk(value as Record<string, unknown>, [...path, name]);
        continue;
      }
      found.push({
        key: [...path, name].join('.'),
        flag: entry.arg === undefined ? undefined : `--${entry.arg}`,
        env: entry.env,
        doc: entry.doc,
        format: formatOf(entry.format),
        default: entry.default,
        sensitive: entry.sensitive === true,
      });
    }
  };
  walk(configSchema as unknown as Record<string, unknown>, []);
  return found;
}

/** The settings grouped by the first part of their key (listen, db, …), in schema order. */
export function settingsBySection(): Map<string, Setting[]> {
  const sections = new Map<string, Setting[]>();
  for (const setting of settings()) {
    const section = setting.key.split('.')[0]!;
    sections.set(section, [...(sections.get(section) ?? []), setting]);
  }
  return sections;
}

/** The names of a setting other than the one a value came by: "[listen.port, MEMGATE_PORT]". */
export function otherNames(setting: Setting, given: 'key' | 'flag' | 'env'): string {
  const names = { key: setting.key, flag: setting.flag, env: setting.env };
  return `[${(['key', 'flag', 'env'] as const).filter((n) => n !== given && names[n]).map((n) => names[n]).join(', ')}]`;
}

/** A default as --help and the docs show it. */
export function shownDefault(setting: Setting): string {
  return setting.default === '' ? '(empty)' : String(setting.default);
}
