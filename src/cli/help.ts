import { settingsBySection, shownDefault, type Setting } from '../config/settings.js';

const WIDTH = 100;
const DOC_INDENT = '      ';

export const USAGE = 'Usage: memgate <serve|schema|sweep> [options]\n';

/** What `memgate` with no command, or a mistyped one, prints: usage and where the rest is. */
export function usageText(): string {
  return `${USAGE}memgate --help describes the commands and every option.\n`;
}

/** --help text, generated from the config schema so docs and flags never drift apart. */
export function helpText(): string {
  const lines = [
    USAGE.trimEnd(),
    '',
    'Commands:',
    '  serve     run a gateway (memcached protocol) backed by the database',
    '  schema    create the item table and its helper tables if they are missing',
    '  sweep     delete expired rows in batches (one pass), print a summary and exit; for cron',
    '',
    'Command options:',
    '  --sessions    schema: also apply sql/sessions.sql (SQL views of PHP sessions) to the table',
    '  --dry-run     sweep: count the expired rows a pass would delete, delete nothing',
    '',
    ...wrap(
      'Every setting has three names: a flag (--port 11311), an environment variable ' +
        '(MEMGATE_PORT=11311) and a dotted key in the JSON file given with --config ' +
        '({"listen": {"port": 11311}} is listen.port). Flags win over the environment, which wins over ' +
        'the file. Error messages name the one you used and add the other two in brackets. ' +
        'Without --db-url, memgate runs its own MariaDB with its data in --embedded-data-dir.',
      '',
    ),
    '',
    'Options:',
    '  --config <file>',
    ...wrap('JSON file of settings, keyed by the dotted names below (see config/example.json).', DOC_INDENT),
    '  --help',
    ...wrap('This text.', DOC_INDENT),
  ];
  for (const [section, members] of settingsBySection()) lines.push('', `${section}.*`, ...members.flatMap(describe));
  return lines.join('\n') + '\n';
}

function describe(setting: Setting): string[] {
  const others = setting.flag ? `[${setting.env}, ${setting.key}]` : `[${setting.key}; no flag]`;
  const name = setting.flag ? `${setting.flag} ${setting.format.placeholder}` : `${setting.env}=${setting.format.placeholder}`;
  const head = `  ${name}  ${others}  default: ${shownDefault(setting)}`;
  return [...(head.length <= WIDTH ? [head] : [`  ${name}`, `${DOC_INDENT}${others}  default: ${shownDefault(setting)}`]), ...wrap(setting.doc, DOC_INDENT)];
}

/** Words of text on lines of at most WIDTH columns, each starting with indent. */
export function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(indent + line);
  return lines;
}
