import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
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
    assert.deepEqual(other.verify(token, 0), { ok: false, reason: 'unknown_key', keyId: 'k1' });
    for (const junk of ['', '.', 'abc', 'a.b.c', `${body}.`, '!!!.???']) assert.equal(signer.verify(junk, 0).ok, false, junk);
  });

  test('verifies with any configured key, signs with the first (rotation)', () => {
    const old = new TokenSigner([key]);
    const rotated = new TokenSigner([{ id: 'k2', secret: 'z'.repeat(40) }, key]);
    assert.ok(rotated.verify(old.sign({}, 5000), 0).ok);
    assert.equal(old.verify(rotated.sign({}, 5000), 0).ok, false);
  });

  test('refuses to be built without a key', () => {
    assert.throws(() => new TokenSigner([]), /at least one key/);
  });

  test('a token with an extra dot-separated part is malformed, even if its first two parts verify', () => {
    const signer = new TokenSigner([key]);
    const token = signer.sign({ s: 'sp_1' }, 10_000);
    assert.ok(signer.verify(token, 0).ok);
    assert.deepEqual(signer.verify(`${token}.x`, 0), { ok: false, reason: 'malformed' });
    assert.deepEqual(signer.verify(`.${token}`, 0), { ok: false, reason: 'malformed' });
  });

  test('accepts tokens up to 4096 characters and refuses longer ones unread', () => {
    const signer = new TokenSigner([key]);
    const ofLength = (length: number): string => {
      for (let n = 0; n < 4000; n++) {
        const token = signer.sign({ p: 'x'.repeat(n) }, 10_000);
        if (token.length === length) return token;
      }
      throw new Error(`no token of length ${length}`);
    };
    assert.ok(signer.verify(ofLength(4096), 0).ok);
    assert.deepEqual(signer.verify(ofLength(4100), 0), { ok: false, reason: 'malformed' });
  });

  test('a correctly signed payload without a finite expiry and a key id is malformed', () => {
    const signer = new TokenSigner([key]);
    // What a key holder with a buggy encoder would produce: the MAC is right, the payload is not.
    const signRaw = (json: string): string => {
      const body = Buffer.from(json).toString('base64url');
      return `${body}.${createHmac('sha256', key.secret).update(body).digest('base64url')}`;
    };
    assert.ok(signer.verify(signRaw('{"e":10,"k":"k1"}'), 0).ok);
    for (const json of ['{"e":1e999,"k":"k1"}', '{"e":"10","k":"k1"}', '{"e":10,"k":1}', '{"e":10}', ' {"e":10,"k":"k1"}']) {
      assert.deepEqual(signer.verify(signRaw(json), 0), { ok: false, reason: 'malformed' }, json);
    }
  });
  test('only the canonical spelling of a signature verifies: the spare bits of its last character are refused', () => {
    const signer = new TokenSigner([key]);
    const token = signer.sign({ t: 'l', s: 'sp_1', u: 'an_x' }, 10_000);
    const [body, mac] = token.split('.') as [string, string];
    // 32 MAC bytes are 43 base64url characters: the last one carries 4 bits and 2 spare ones.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(mac.at(-1)!);
    const spellings = [1, 2, 3].map((spare) => `${body}.${mac.slice(0, -1)}${alphabet[last ^ spare]}`);
    for (const spelling of spellings) {
      assert.deepEqual(Buffer.from(spelling.split('.')[1]!, 'base64url'), Buffer.from(mac, 'base64url'), 'the same bytes');
      assert.deepEqual(signer.verify(spelling, 0), { ok: false, reason: 'bad_signature' }, spelling);
    }
    // Padding, and a wide character whose low byte is the right one, are other spellings too.
    const wide = `${body}.${mac.slice(0, -1)}${String.fromCharCode(0x100 + mac.charCodeAt(mac.length - 1))}`;
    for (const variant of [`${token}=`, wide]) assert.equal(signer.verify(variant, 0).ok, false, variant);
    assert.ok(signer.verify(token, 0).ok);
  });

  test('refuseUnverified refuses on the claims as written, before the MAC, and never makes a token good', () => {
    const signer = new TokenSigner([key]);
    const expired = signer.sign({ t: 'l', s: 'sp_1' }, 5_000);
    const [body, mac] = expired.split('.') as [string, string];
    const forgedMac = mac.startsWith('A') ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
    const isExpired = (c: { e: number }, now: number) => c.e * 1000 <= now;
    // Refused before the signature is looked at: a wrong MAC is not even noticed.
    assert.deepEqual(signer.verify(`${body}.${forgedMac}`, 6_000, isExpired), { ok: false, reason: 'unverified' });
    assert.deepEqual(signer.verify(expired, 6_000, isExpired), { ok: false, reason: 'unverified' });
    // Without it, the reasons other callers tell apart stay: a forged token is forged, a real one expired.
    assert.deepEqual(signer.verify(`${body}.${forgedMac}`, 6_000), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(signer.verify(expired, 6_000), { ok: false, reason: 'expired' });
    // A test that lets a token through does not accept it: the MAC and the expiry are still checked.
    const never = () => false;
    assert.deepEqual(signer.verify(`${body}.${forgedMac}`, 0, never), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(signer.verify(expired, 6_000, never), { ok: false, reason: 'expired' });
    assert.ok(signer.verify(expired, 0, never).ok);
    // It sees the claims as written.
    const seen: unknown[] = [];
    signer.verify(expired, 0, (c) => (seen.push(c), false));
    assert.deepEqual(seen, [{ t: 'l', s: 'sp_1', e: 5, k: 'k1' }]);
  });

  test('a payload is read only when it is spelled as the signer spells one (base64url of a JSON object)', () => {
    const signer = new TokenSigner([key]);
    const signRaw = (body: string) => `${body}.${createHmac('sha256', key.secret).update(body).digest('base64url')}`;
    const body = Buffer.from('{"e":10,"k":"k1"}').toString('base64url');
    assert.ok(signer.verify(signRaw(body), 0).ok);
    // Spellings the lenient decoder reads as the same JSON, MAC and all: never produced by sign().
    for (const spelling of [` ${body}`, `\t${body}`, `\n${body}`, `e ${body.slice(1)}`]) {
      assert.equal(Buffer.from(spelling, 'base64url').toString(), '{"e":10,"k":"k1"}', 'decodes alike');
      assert.deepEqual(signer.verify(signRaw(spelling), 0), { ok: false, reason: 'malformed' }, spelling);
    }
  });
});
