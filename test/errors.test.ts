import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AmphiError, errorCatalogue, renderErrorDocs } from '../src/errors.ts';

test('docs/errors.md documents every error code exactly as the catalogue says (npm run docs:errors)', () => {
  const docs = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  assert.equal(docs, renderErrorDocs());
  for (const [code, e] of Object.entries(errorCatalogue)) assert.ok(docs.includes(`| \`${code}\` | ${e.status} |`), code);
});

test('every code has a 4xx/5xx status and an actionable message', () => {
  for (const [code, e] of Object.entries(errorCatalogue)) {
    assert.match(code, /^[A-Z][A-Z_]+$/);
    assert.ok(e.status >= 400 && e.status < 600, code);
    assert.ok(e.message.length > 15 && e.message.endsWith('.'), code);
  }
});

test('AmphiError renders the one error shape', () => {
  const e = new AmphiError('RATE_LIMITED', { headers: { 'retry-after': '2' } });
  assert.equal(e.status, 429);
  assert.deepEqual(e.toBody(), { error: { code: 'RATE_LIMITED', message: errorCatalogue.RATE_LIMITED.message } });
});
