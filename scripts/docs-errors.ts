// Regenerates docs/errors.md from the error catalogue in src/errors.ts.
import { writeFileSync } from 'node:fs';
import { renderErrorDocs } from '../src/errors.ts';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorDocs());
