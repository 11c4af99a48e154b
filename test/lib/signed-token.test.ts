import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TokenSigner } from '../../src/lib/signed-token.ts';

describe('TokenSigner', () => {
  const key = { id: 'k1', secret: 'x'.repeat(40) };

  test('round-trips claims until expiry', () => {
    const signer = new TokenSigner([key]);
    const token = signer.sign({ t: 'l', s: 'sp_1' }, 10_000);
    const ok = signer.verify<{ t: string; s: string }>(token, 9_999);
    assert.ok(ok.ok);
    assert.equal(ok.claims.s, 'sp_1');
    assert.deepEqual(signer.verify(token, 10_000), { ok: false, reason: 'expired' });
  });

  test('refuses tampered, foreign-key and malformed tokens', () => {
    const signer = new TokenSigner([key]);
    const token = signer.sign({ s: 'sp_1' }, 10_000);
    const [body, mac] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ s: 'sp_2', e: 10, k: 'k1' })).toString('base64url');
    assert.equal(signer.verify(`${forged}.${mac}`, 0).ok, false);
    const flipped = mac.startsWith('A') ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
    assert.deepEqual(signer.verify(`${body}.${flipped}`, 0), { ok: false, reason: 'bad_signature' });
    const other = new TokenSigner([{ id: 'k2', secret: 'y'.repeat(40) }]);
    assert.deepEqual(other.verify(token, 0), { ok: false, reason: 'unknown_key' });
    for (const junk of ['', '.', 'abc', 'a.b.c', `${body}.`, '!!!.???']) assert.equal(signer.verify(junk, 0).ok, false, junk);
  });

  test('verifies with any configured key, signs with the first (rotation)', () => {
    const old = new TokenSigner([key]);
    const rotated = new TokenSigner([{ id: 'k2', secret: 'z'.repeat(40) }, key]);
    assert.ok(rotated.verify(old.sign({}, 5000), 0).ok);
    assert.equal(old.verify(rotated.sign({}, 5000), 0).ok, false);
  });
});
