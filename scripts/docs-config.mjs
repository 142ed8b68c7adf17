// `npm run docs:config`: writes docs/configuration.md from the config schema (built into dist/).
import { writeFileSync } from 'node:fs';
import { renderConfigurationDoc } from '../dist/src/config/config-doc.js';

const target = new URL('../docs/configuration.md', import.meta.url);
writeFileSync(target, renderConfigurationDoc());
console.log(`wrote ${target.pathname}`);
