// Regenerates docs/configuration.md from the config schema and defaults (src/config/).
import { writeFileSync } from 'node:fs';
import { renderSettingsDocs } from '../src/config/docs.ts';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderSettingsDocs());
