import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProofOfWork, ReplaySet, type PowPolicy } from '../../src/admission/pow.ts';
import { subjectTag } from '../../src/admission/signed.ts';
import { defaultConfig } from '../../src/config/defaults.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { MAX_SOLUTION_LENGTH } from '../../src/shared/pow-solve.ts';
import { readClaims, signer } from './rooms.ts';

const policy: PowPolicy = { ...defaultConfig.admission.pow, minBits: 8, maxBits: 16 };
const alice = { spaceId: 'sp_1', subject: 'an_alice' };

function makePow() {
  return new ProofOfWork({ signer, clock: new ManualClock(0), policy });
}

describe('proof-of-work policy', () => {
  test('bit ranges outside 0 <= minBits <= maxBits <= 32 are refused', () => {
    const build = (minBits: number, maxBits: number) => () =>
      new ProofOfWork({ signer, clock: new ManualClock(0), policy: { ...policy, minBits, maxBits } });
    const message = /admission\.pow: need 0 <= minBits <= maxBits <= 32/;
    assert.throws(build(-1, 8), message);
    assert.throws(build(9, 8), message);
    assert.throws(build(8, 33), message);
    assert.throws(build(Number.NaN, 8), message);
    assert.doesNotThrow(build(0, 0));
    assert.doesNotThrow(build(8, 8));
    assert.doesNotThrow(build(32, 32));
  });
});

describe('proof-of-work verification', () => {
  test('a well-signed challenge with an unusable nonce or difficulty is refused as forged', () => {
    const pow = makePow();
    const c = pow.challenge('sp_1', 'an_alice', 0);
    const claims = readClaims(c.challenge);
    assert.equal(claims.u, subjectTag('an_alice'));
    for (const bad of [{ c: 7 }, { c: null }, { d: 'x' }, { d: 0.5 }, { d: null }]) {
      const forged = signer.sign({ ...claims, ...bad }, 60_000);
      assert.deepEqual(pow.verify(forged, 'any', alice), { ok: false, reason: 'forged' }, JSON.stringify(bad));
    }
    assert.deepEqual(pow.verify(signer.sign(claims, 60_000), 'any', alice).ok, true, 'the same claims are good');
  });

  test('an empty or over-long solution is wrong even when no work is asked', () => {
    const pow = makePow();
    const solve = (solution: string) => pow.verify(pow.challenge('sp_1', 'an_alice', 0).challenge, solution, alice);
    assert.deepEqual(solve(''), { ok: false, reason: 'wrong_solution' });
    assert.deepEqual(solve('x'.repeat(MAX_SOLUTION_LENGTH + 1)), { ok: false, reason: 'wrong_solution' });
    assert.deepEqual(solve('x'.repeat(MAX_SOLUTION_LENGTH)).ok, true, 'the longest allowed');
    assert.deepEqual(solve('x').ok, true);
  });
});

describe('ReplaySet', () => {
  test('an entry counts as expired from its expiry time on', () => {
    const seen = new ReplaySet(10);
    assert.equal(seen.add('a', 1000, 0), true);
    assert.equal(seen.add('b', 2000, 1000), true);
    assert.equal(seen.size, 1, 'a expired at 1000 and was dropped');
  });

  test('a key whose expiry passed may be recorded again, even behind a longer-lived entry', () => {
    const seen = new ReplaySet(10);
    seen.add('long', 5000, 0);
    seen.add('short', 1000, 0);
    assert.equal(seen.add('short', 3000, 500), false, 'still live');
    assert.equal(seen.add('short', 3000, 1000), true, 'expired at 1000, though not yet dropped');
    assert.equal(seen.add('short', 3000, 2000), false, 'recorded again until 3000');
    assert.equal(seen.add('long', 9000, 4999), false);
  });
});
