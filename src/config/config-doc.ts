import { settingsBySection, shownDefault, type Setting } from './settings.js';

/**
 * docs/configuration.md, rendered from the schema by `npm run docs:config`; a unit test fails
 * when the committed file differs from this.
 */
export function renderConfigurationDoc(): string {
  const lines = [
    '# Configuration',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`; edit the schema, not this file. -->',
    '',
    'Every setting has three names:',
    '',
    '- a flag: `memgate serve --port 11311`;',
    '- an environment variable: `MEMGATE_PORT=11311 memgate serve`;',
    '- a dotted key in a JSON file given with `--config`: `{"listen": {"port": 11311}}` is `listen.port`.',
    '',
    'Flags win over the environment, which wins over the file, which wins over the defaults.',
    'Error messages name the setting as you gave it and add its other two names in brackets, e.g.',
    '`--port abc: not a port (0-65535) [listen.port, MEMGATE_PORT]`.',
    '[`config/example.json`](../config/example.json) is a file with the settings most often changed.',
    '',
  ];
  for (const [section, members] of settingsBySection()) lines.push(`## ${section}`, '', ...members.flatMap(entry));
  return lines.join('\n');
}

function entry(setting: Setting): string[] {
  const code = (text: string) => `\`${text}\``;
  return [
    `### ${code(setting.key)}`,
    '',
    setting.doc,
    '',
    `- flag: ${setting.flag ? code(`${setting.flag} ${setting.format.placeholder}`) : 'none'}`,
    `- environment: ${code(setting.env)}`,
    `- format: ${setting.format.describe}`,
    `- default: ${setting.default === '' ? 'empty' : code(shownDefault(setting))}`,
    '',
  ];
}
