import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { renderConfigurationDoc } from '../../../src/config/config-doc.js';
import { settings } from '../../../src/config/settings.js';

describe('docs/configuration.md', () => {
  const rendered = renderConfigurationDoc();

  it('is what npm run docs:config renders from the schema', () => {
    const committed = readFileSync(new URL('../../../../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed === rendered, 'docs/configuration.md is stale: run npm run docs:config and commit it').to.equal(true);
  });

  it('gives every setting its key, flag, variable, format and default', () => {
    for (const setting of settings()) {
      const section = rendered.slice(rendered.indexOf(`### \`${setting.key}\`\n`));
      expect(section, setting.key).to.not.equal(rendered.slice(-1));
      const block = section.slice(0, section.indexOf('\n### ', 1) >>> 0);
      expect(block, setting.key).to.include(setting.doc).and.include(`\`${setting.env}\``).and.include(`- format: ${setting.format.describe}`);
      if (setting.flag) expect(block, setting.key).to.include(`\`${setting.flag} `);
    }
  });
});
