import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId, newSecret } from '../../src/lib/ids.ts';

test('ids are prefixed, 12 url-safe characters, and do not repeat across pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = newId('an');
    assert.match(id, /^an_[A-Za-z0-9_-]{12}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 5000);
  assert.match(newSecret(), /^[A-Za-z0-9_-]{43}$/);
});
