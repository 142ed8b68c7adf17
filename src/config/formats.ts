import { availableParallelism } from 'node:os';
import convict from 'convict';
import { parseDatabaseUrls } from '../store/db-url.js';
import { TABLE_NAME_PATTERN } from '../store/schema.js';

/**
 * The value formats of the settings. Each is registered with convict and also checked by
 * loadConfig one value at a time, so that an error can name the flag, variable or file the
 * value came from (convict only knows the merged result).
 */
export interface SettingFormat {
  /** how --help and docs/configuration.md describe the values */
  describe: string;
  /** the value placeholder after the flag in --help */
  placeholder: string;
  /** a string from a flag, the environment or a file → the value; anything else as given */
  coerce?: (value: string) => unknown;
  /** throws an Error whose message completes "<where the value came from>: ..." */
  validate: (value: unknown) => void;
}

const WHOLE = /^\d+$/;
const whole = (value: string): number => (WHOLE.test(value.trim()) ? Number(value) : Number.NaN);

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 * 1024 };

// Booleans are written true/false; 1/0 as well, as environment files often do. Anything else
// is refused rather than taken as true.
const BOOLEAN_WORDS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false };

export const FORMATS = {
  'tcp-port': {
    describe: 'port (0-65535)',
    placeholder: '<port>',
    coerce: whole,
    validate(value) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) throw new Error('not a port (0-65535)');
    },
  },
  'whole-number': {
    describe: 'whole number (0 or more)',
    placeholder: '<n>',
    coerce: whole,
    validate(value) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new Error('not a whole number (0 or more)');
    },
  },
  'positive-int': {
    describe: 'whole number (1 or more)',
    placeholder: '<n>',
    coerce: whole,
    validate(value) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new Error('not a whole number of at least 1');
    },
  },
  // auto is settled when the value is read, so the configuration always holds a number.
  'worker-count': {
    describe: 'whole number (1 or more), or auto (one per core)',
    placeholder: '<n|auto>',
    coerce: (value) => (value.trim() === 'auto' ? availableParallelism() : whole(value)),
    validate(value) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new Error('not a whole number of at least 1, or auto');
    },
  },
  // Sizes are given like memcached's -I: 1048576, 1024k or 1m.
  size: {
    describe: 'size in bytes; k and m suffixes allowed (512k, 1m)',
    placeholder: '<size>',
    coerce(value) {
      const match = /^(\d+)\s*([bkm]?)$/i.exec(value.trim());
      return match ? Number(match[1]) * UNITS[match[2]!.toLowerCase()]! : Number.NaN;
    },
    validate(value) {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new Error('not a size like 1048576, 512k or 1m');
      if (value < 1024 || value > 16 * 1024 * 1024) throw new Error('not between 1k and 16m (the value column is a MEDIUMBLOB)');
    },
  },
  bool: {
    describe: 'true or false (1 or 0)',
    placeholder: '<true|false>',
    coerce: (value) => BOOLEAN_WORDS[value.trim().toLowerCase()] ?? value,
    validate(value) {
      if (typeof value !== 'boolean') throw new Error('not true or false');
    },
  },
  text: {
    describe: 'text',
    placeholder: '<text>',
    validate(value) {
      if (typeof value !== 'string') throw new Error('not a string');
    },
  },
  path: {
    describe: 'file or directory path',
    placeholder: '<path>',
    validate(value) {
      if (typeof value !== 'string') throw new Error('not a path');
    },
  },
  'db-url': {
    describe: 'mysql:// URL(s), comma-separated',
    placeholder: '<url>',
    validate(value) {
      if (typeof value !== 'string') throw new Error('not a string');
      // Empty selects the embedded MariaDB that memgate provisions itself.
      if (value !== '') parseDatabaseUrls(value, 'db.url');
    },
  },
  // Written in octal as memcached's -a (700, 0660); a number in a config file is read the same.
  'file-mode': {
    describe: 'octal permission bits (700, 0660)',
    placeholder: '<mode>',
    coerce: (value) => value.trim(),
    validate(value) {
      if ((typeof value !== 'string' && typeof value !== 'number') || !/^0?[0-7]{3}$/.test(String(value))) {
        throw new Error('not an octal file mode like 700 or 0660');
      }
    },
  },
  'table-name': {
    describe: 'table name (letters, digits, _)',
    placeholder: '<name>',
    validate(value) {
      if (typeof value !== 'string' || !TABLE_NAME_PATTERN.test(value)) {
        throw new Error('not a plain identifier: letters, digits and _, not starting with a digit, at most 58 characters (memgate adds _locks for the session lock table)');
      }
    },
  },
} satisfies Record<string, SettingFormat>;

export type FormatName = keyof typeof FORMATS;

/** A value of the file-mode format as permission bits: '660' → 0o660. */
export function fileModeBits(value: string | number): number {
  return Number.parseInt(String(value), 8);
}

for (const [name, format] of Object.entries(FORMATS) as Array<[string, SettingFormat]>) {
  convict.addFormat({ name, validate: format.validate, coerce: format.coerce });
}

/** A schema entry's format: a registered name, or the list of allowed words. */
export function formatOf(format: FormatName | readonly string[]): SettingFormat {
  if (typeof format === 'string') return FORMATS[format];
  return {
    describe: `one of: ${format.join(', ')}`,
    placeholder: `<${format.join('|')}>`,
    validate(value) {
      if (typeof value !== 'string' || !format.includes(value)) throw new Error(`not one of: ${format.join(', ')}`);
    },
  };
}

/** Coerces a value as convict would (strings only), then validates it; throws what is wrong. */
export function checkValue(format: SettingFormat, value: unknown): unknown {
  const coerced = typeof value === 'string' && format.coerce ? format.coerce(value) : value;
  format.validate(coerced);
  return coerced;
}
