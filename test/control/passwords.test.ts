import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword, verifyPassword } from '../../src/control/passwords.ts';

test('passwords are stored as salted scrypt hashes that carry their cost', async () => {
  const a = await hashPassword('correct horse', 10);
  const b = await hashPassword('correct horse', 10);
  assert.match(a, /^scrypt\$10\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b, 'salted: the same password hashes differently');
  assert.ok(!a.includes('correct'));
  assert.equal(await verifyPassword('correct horse', a), true);
  assert.equal(await verifyPassword('correct horsf', a), false);
  assert.equal(await verifyPassword('correct horse', 'plaintext'), false);
});

test('a hash made at one cost still verifies after the default cost changes', async () => {
  const old = await hashPassword('pw pw pw pw', 11);
  assert.equal(await verifyPassword('pw pw pw pw', old), true);
});
