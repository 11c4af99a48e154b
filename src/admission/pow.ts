import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../lib/clock.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import { leadingZeroBits, MAX_SOLUTION_LENGTH, powInput } from '../shared/pow-solve.ts';
import { checkSigned, subjectTag } from './signed.ts';

/**
 * Proof of work for anonymous joins under attack: below `thresholdJoinsPerSecond` of join attempts
 * nobody pays; above it, difficulty starts at `minBits` and rises by `bitsPerDoubling` each time the
 * load doubles, up to `maxBits`. A challenge is a signed token bound to a Space and a subject, good
 * until it expires and for one verification only (right or wrong: the server must not be an oracle
 * that checks guesses for free). The solver is `shared/pow-solve.ts`.
 */
export interface PowPolicy {
  readonly thresholdJoinsPerSecond: number;
  readonly minBits: number;
  readonly bitsPerDoubling: number;
  readonly maxBits: number;
  readonly challengeTtlMs: number;
  /** Signed-in users never pay: their account is already a cost. */
  readonly exemptSignedIn: boolean;
  /** Challenges remembered as used; size it above (verifications/s x challengeTtlMs). */
  readonly replayMaxEntries: number;
}

/** Leading zero bits required at `load` join attempts per second: 0 = none; monotone in load; capped. */
export function difficultyFor(load: number, policy: PowPolicy): number {
  if (!(load > policy.thresholdJoinsPerSecond) || policy.maxBits <= 0) return 0;
  // A threshold of 0 means every join past none at all: as many doublings as there are (Infinity), so
  // the bits are maxBits when they grow and minBits when they do not (never Infinity * 0 = NaN).
  const doublings = policy.thresholdJoinsPerSecond > 0 ? Math.log2(load / policy.thresholdJoinsPerSecond) : Infinity;
  const bits = policy.bitsPerDoubling > 0 ? policy.minBits + Math.floor(doublings * policy.bitsPerDoubling) : policy.minBits;
  return Math.max(0, Math.min(policy.maxBits, bits));
}

/** Claims of a proof-of-work challenge. */
export interface PowClaims {
  readonly t: 'p';
  readonly s: string;
  /** Random nonce: the puzzle's prefix and the challenge's identity for replay checks. */
  readonly c: string;
  /** Difficulty, leading zero bits. */
  readonly d: number;
  /** `subjectTag(subject)`. */
  readonly u: string;
}

export interface PowChallenge {
  readonly challenge: string;
  readonly nonce: string;
  readonly difficultyBits: number;
  readonly expiresAt: number;
}

export type PowRefusal = 'forged' | 'expired' | 'other_space' | 'wrong_subject' | 'reused' | 'wrong_solution';

export type PowResult =
  /** `nonce` and `expiresAtMs` name the challenge used up, for a replay check shared by every node. */
  | { readonly ok: true; readonly nonce: string; readonly expiresAtMs: number }
  | { readonly ok: false; readonly reason: PowRefusal };

export interface ProofOfWorkOptions {
  readonly signer: TokenSigner;
  readonly clock: Clock;
  readonly policy: PowPolicy;
}

export class ProofOfWork {
  readonly #o: ProofOfWorkOptions;
  readonly #used: ReplaySet;

  constructor(options: ProofOfWorkOptions) {
    const p = options.policy;
    if (!(p.minBits >= 0 && p.maxBits >= p.minBits && p.maxBits <= 32)) {
      throw new Error('admission.pow: need 0 <= minBits <= maxBits <= 32');
    }
    this.#o = options;
    this.#used = new ReplaySet(p.replayMaxEntries);
  }

  /** Bits this join must prove at `load` join attempts per second (0 = admit without a puzzle). */
  requiredBits(load: number, signedIn: boolean): number {
    if (signedIn && this.#o.policy.exemptSignedIn) return 0;
    return difficultyFor(load, this.#o.policy);
  }

  challenge(spaceId: string, subject: string, difficultyBits: number): PowChallenge {
    const nonce = randomBytes(16).toString('base64url');
    const expiresAt = this.#o.clock.now() + this.#o.policy.challengeTtlMs;
    const claims: PowClaims = { t: 'p', s: spaceId, c: nonce, d: difficultyBits, u: subjectTag(subject) };
    return { challenge: this.#o.signer.sign(claims, expiresAt), nonce, difficultyBits, expiresAt };
  }

  /** Checks a solved challenge for this Space and subject; any checked attempt uses the challenge up. */
  verify(challenge: string, solution: string, expect: { readonly spaceId: string; readonly subject: string }): PowResult {
    const now = this.#o.clock.now();
    const checked = checkSigned<PowClaims>(this.#o.signer, challenge, now, 'p');
    if (!checked.ok) return checked;
    const c = checked.claims;
    if (typeof c.c !== 'string' || !Number.isInteger(c.d)) return { ok: false, reason: 'forged' };
    if (c.s !== expect.spaceId) return { ok: false, reason: 'other_space' };
    if (c.u !== subjectTag(expect.subject)) return { ok: false, reason: 'wrong_subject' };
    if (!this.#used.add(c.c, c.e * 1000, now)) return { ok: false, reason: 'reused' };
    if (solution.length === 0 || solution.length > MAX_SOLUTION_LENGTH) return { ok: false, reason: 'wrong_solution' };
    const digest = createHash('sha256').update(powInput(c.c, solution)).digest();
    return leadingZeroBits(digest) >= c.d
      ? { ok: true, nonce: c.c, expiresAtMs: c.e * 1000 }
      : { ok: false, reason: 'wrong_solution' };
  }
}

/**
 * Keys seen before their expiry, bounded: expired keys are dropped from the oldest end; past
 * `maxEntries` the oldest is dropped even if live (it could then be replayed once: size accordingly).
 */
export class ReplaySet {
  readonly #maxEntries: number;
  #entries = new Map<string, number>();

  constructor(maxEntries: number) {
    this.#maxEntries = Math.max(1, maxEntries);
  }

  /** Records `key`; false when it was already recorded and has not expired. */
  add(key: string, expiresAtMs: number, nowMs: number): boolean {
    for (const [k, exp] of this.#entries) {
      if (exp > nowMs) break;
      this.#entries.delete(k);
    }
    const seen = this.#entries.get(key);
    if (seen !== undefined && seen > nowMs) return false;
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, expiresAtMs);
    return true;
  }

  get size(): number {
    return this.#entries.size;
  }
}
