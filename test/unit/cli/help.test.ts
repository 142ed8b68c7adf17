import { expect } from 'chai';
import { helpText } from '../../../src/cli/help.js';
import { settings } from '../../../src/config/settings.js';

describe('memgate --help', () => {
  const lines = helpText().split('\n');

  it('keeps every line within 100 columns', () => {
    for (const line of lines) expect(line.length, line).to.be.at.most(100);
  });

  it('lists each setting under its flag with its variable and dotted key, and its text on the lines below', () => {
    for (const setting of settings()) {
      const head = setting.flag ? `  ${setting.flag} ${setting.format.placeholder}` : `  ${setting.env}=${setting.format.placeholder}`;
      const at = lines.findIndex((line) => line === head || line.startsWith(`${head}  [`));
      expect(at, `a line for ${setting.key}`).to.be.at.least(0);
      const names = lines[at]!.length > head.length ? lines[at]! : lines[at + 1]!;
      expect(names, setting.key).to.include(setting.key).and.include(setting.flag ? setting.env : 'no flag');
      const firstWord = setting.doc.split(' ')[0]!;
      expect(lines.slice(at + 1, at + 3).some((line) => line.startsWith(`      ${firstWord}`)), `${setting.key}'s text follows`).to.equal(true);
    }
  });

  it('explains the three names once, at the top', () => {
    const text = helpText();
    expect(text.match(/three names/g)).to.have.length(1);
    expect(text.indexOf('three names')).to.be.below(text.indexOf('--host'));
  });
});
