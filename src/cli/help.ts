import { configSchema } from '../config/schema.js';

/** --help text, generated from the config schema so docs and flags never drift apart. */
export function helpText(): string {
  const lines = [
    'Usage: memgate <command> [options]',
    '',
    'Commands:',
    '  serve     run a gateway (memcached protocol) backed by the database',
    '  schema    create the item table and its helper tables if they are missing',
    '  sweep     delete expired rows in batches (one pass), print a summary and exit; for cron',
    '',
    'Options (each also settable as MEMGATE_* in the environment or in a --config JSON file):',
    '  --config <file>                 JSON file with settings (see config/default.json)',
  ];
  const walk = (node: Record<string, unknown>) => {
    for (const value of Object.values(node)) {
      const entry = value as { doc?: string; arg?: string; env?: string; default?: unknown };
      if (!('default' in entry)) {
        walk(entry as Record<string, unknown>);
        continue;
      }
      if (!entry.arg) continue;
      const shown = entry.default === '' ? '' : ` (default: ${String(entry.default)})`;
      lines.push(`  --${entry.arg} <value>`.padEnd(34) + `${entry.doc ?? ''}${shown} [${entry.env}]`);
    }
  };
  walk(configSchema as unknown as Record<string, unknown>);
  lines.push('  --dry-run                       sweep only: count the expired rows a pass would delete, delete nothing');
  lines.push('  --help                          this text');
  return lines.join('\n') + '\n';
}
