import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { difficultyFor, ProofOfWork, ReplaySet, type PowPolicy } from '../../src/admission/pow.ts';
import { leadingZeroBits, readChallenge, solve } from '../../src/shared/pow-solve.ts';
import { defaultConfig } from '../../src/config/defaults.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';

const signer = new TokenSigner([{ id: 'k1', secret: 'x'.repeat(40) }]);
const policy: PowPolicy = {
  ...defaultConfig.admission.pow,
  thresholdJoinsPerSecond: 100,
  minBits: 8,
  bitsPerDoubling: 2,
  maxBits: 16,
};
const alice = { spaceId: 'sp_1', subject: 'an_alice' };

function makePow() {
  const clock = new ManualClock(0);
  return { clock, pow: new ProofOfWork({ signer, clock, policy }) };
}

/**
 * The puzzle's rule, written here from its definition with node:crypto, sharing no code with the
 * solver or the server's checker: leading zero bits of SHA-256(`${nonce}:${solution}`).
 */
function zeroBits(nonce: string, solution: string): number {
  const digest = createHash('sha256').update(`${nonce}:${solution}`, 'utf8').digest();
  let bits = 0;
  for (const byte of digest) {
    for (let mask = 0x80; mask > 0; mask >>= 1) {
      if ((byte & mask) !== 0) return bits;
      bits++;
    }
  }
  return bits;
}

/** A solution with exactly `bits` leading zero bits, found by brute force here. */
function solutionWithExactly(nonce: string, bits: number, prefix = 'x'): string {
  for (let i = 0; ; i++) if (zeroBits(nonce, `${prefix}${i}`) === bits) return `${prefix}${i}`;
}

/** A solution that does not meet the difficulty (found by the test, not guessed). */
function wrongSolution(nonce: string, bits: number): string {
  for (let i = 0; ; i++) if (zeroBits(nonce, `bad${i}`) < bits) return `bad${i}`;
}

describe('proof-of-work difficulty', () => {
  test('zero up to the threshold, then monotone in load, and capped', () => {
    assert.equal(difficultyFor(0, policy), 0);
    assert.equal(difficultyFor(100, policy), 0);
    assert.equal(difficultyFor(Number.NaN, policy), 0);
    assert.equal(difficultyFor(101, policy), 8);
    assert.equal(difficultyFor(200, policy), 10, 'two more bits per doubling');
    assert.equal(difficultyFor(1e9, policy), 16, 'capped at maxBits');
    let previous = 0;
    for (let load = 0; load < 1e6; load = load * 1.07 + 1) {
      const d = difficultyFor(load, policy);
      assert.ok(d >= previous && d <= policy.maxBits, `load ${load}`);
      previous = d;
    }
  });

  test('a threshold of 0 asks every join past none for work: minBits flat, maxBits when bits grow (never NaN)', () => {
    const flat = { ...policy, thresholdJoinsPerSecond: 0, minBits: 6, maxBits: 6, bitsPerDoubling: 0 };
    assert.equal(difficultyFor(0, flat), 0, 'no load, no work');
    assert.equal(difficultyFor(0.01, flat), 6);
    assert.equal(difficultyFor(20, flat), 6);
    const growing = { ...policy, thresholdJoinsPerSecond: 0 };
    assert.equal(difficultyFor(20, growing), policy.maxBits);
  });

  test('signed-in users are exempt when the policy says so', () => {
    const { pow } = makePow();
    assert.equal(pow.requiredBits(400, true), 0);
    assert.equal(pow.requiredBits(400, false), 12);
    const strict = new ProofOfWork({ signer, clock: new ManualClock(0), policy: { ...policy, exemptSignedIn: false } });
    assert.equal(strict.requiredBits(400, true), 12);
  });
});

describe('proof of work', () => {
  test('leading zero bits, counted on known digests', () => {
    const cases: [number[], number][] = [
      [[0xff, 0x00], 0],
      [[0x80], 0],
      [[0x7f], 1],
      [[0x01, 0xff], 7],
      [[0x00, 0x80], 8],
      [[0x00, 0x00, 0x0f], 20],
      [[0x00, 0x00, 0x00, 0x00], 32],
    ];
    for (const [bytes, bits] of cases) assert.equal(leadingZeroBits(Uint8Array.from(bytes)), bits, bytes.join(','));
  });

  test('solve then verify round-trips at 8 bits; the puzzle is read from the token alone', async () => {
    const { pow } = makePow();
    const c = pow.challenge('sp_1', 'an_alice', 8);
    assert.deepEqual(readChallenge(c.challenge), { nonce: c.nonce, difficultyBits: 8 });
    const solution = await solve(c.challenge);
    assert.ok(zeroBits(c.nonce, solution) >= 8, 'the solver’s answer, checked by the test’s own hash');
    assert.deepEqual(pow.verify(c.challenge, solution, alice), { ok: true, nonce: c.nonce, expiresAtMs: c.expiresAt });
  });

  test('the server accepts a solution with exactly the bits asked and refuses one with a bit less', () => {
    const { pow } = makePow();
    for (const bits of [1, 8, 10]) {
      const right = pow.challenge('sp_1', 'an_alice', bits);
      assert.deepEqual(pow.verify(right.challenge, solutionWithExactly(right.nonce, bits), alice).ok, true, `${bits} bits`);
      const short = pow.challenge('sp_1', 'an_alice', bits);
      const oneBitShort = solutionWithExactly(short.nonce, bits - 1);
      assert.equal(zeroBits(short.nonce, oneBitShort), bits - 1);
      assert.deepEqual(
        pow.verify(short.challenge, oneBitShort, alice),
        { ok: false, reason: 'wrong_solution' },
        `${bits - 1} zero bits when ${bits} are asked`,
      );
    }
  });

  test('the solver stops at the first counter that has every bit asked, by an independent check', async () => {
    for (let n = 0; n < 8; n++) {
      const puzzle = { nonce: `fixed-nonce-${n}`, difficultyBits: 8 };
      let first = 0;
      while (zeroBits(puzzle.nonce, first.toString(36)) < 8) first++;
      const solution = await solve(puzzle, { batch: 64 });
      assert.equal(solution, first.toString(36), `puzzle ${puzzle.nonce}`);
      assert.ok(zeroBits(puzzle.nonce, solution) >= 8);
    }
  });

  test('a challenge is single use: a replay is refused', async () => {
    const { pow } = makePow();
    const c = pow.challenge('sp_1', 'an_alice', 8);
    const solution = await solve(c.challenge);
    assert.deepEqual(pow.verify(c.challenge, solution, alice), { ok: true, nonce: c.nonce, expiresAtMs: c.expiresAt });
    assert.deepEqual(pow.verify(c.challenge, solution, alice), { ok: false, reason: 'reused' });
  });

  test('a wrong solution is refused and uses the challenge up (no free guessing)', async () => {
    const { pow } = makePow();
    const c = pow.challenge('sp_1', 'an_alice', 8);
    assert.deepEqual(pow.verify(c.challenge, wrongSolution(c.nonce, 8), alice), { ok: false, reason: 'wrong_solution' });
    assert.deepEqual(pow.verify(c.challenge, await solve(c.challenge), alice), { ok: false, reason: 'reused' });
    const d = pow.challenge('sp_1', 'an_alice', 8);
    assert.deepEqual(pow.verify(d.challenge, 'x'.repeat(65), alice), { ok: false, reason: 'wrong_solution' });
  });

  test('forged, expired, other-Space and other-subject challenges are refused', async () => {
    const { clock, pow } = makePow();
    const c = pow.challenge('sp_1', 'an_alice', 8);
    const solution = await solve(c.challenge);
    const [body, mac] = c.challenge.split('.') as [string, string];
    const easier = { ...(JSON.parse(Buffer.from(body, 'base64url').toString()) as object), d: 0 };
    const tampered = `${Buffer.from(JSON.stringify(easier)).toString('base64url')}.${mac}`;
    assert.deepEqual(pow.verify(tampered, 'x', alice), { ok: false, reason: 'forged' });
    const ticket = signer.sign({ t: 'w', s: 'sp_1', n: 1, u: 'x', i: 'x' }, 60_000);
    assert.deepEqual(pow.verify(ticket, solution, alice), { ok: false, reason: 'forged' });
    assert.deepEqual(pow.verify(c.challenge, solution, { spaceId: 'sp_2', subject: 'an_alice' }), {
      ok: false,
      reason: 'other_space',
    });
    assert.deepEqual(pow.verify(c.challenge, solution, { spaceId: 'sp_1', subject: 'an_mallory' }), {
      ok: false,
      reason: 'wrong_subject',
    });
    clock.advance(policy.challengeTtlMs);
    assert.deepEqual(pow.verify(c.challenge, solution, alice), { ok: false, reason: 'expired' });
  });

  test('the replay set is bounded and forgets what has expired', () => {
    const seen = new ReplaySet(3);
    assert.equal(seen.add('a', 1000, 0), true);
    assert.equal(seen.add('a', 1000, 10), false);
    assert.equal(seen.add('b', 2000, 10), true);
    assert.equal(seen.add('c', 2000, 1500), true, 'a expired and was dropped');
    assert.equal(seen.size, 2);
    for (let i = 0; i < 100; i++) seen.add(`k${i}`, 5000, 1600);
    assert.equal(seen.size, 3);
  });
});
