import { createHash } from 'node:crypto';
import type { TokenClaims, TokenSigner } from '../lib/signed-token.ts';

/**
 * What tickets and proof-of-work challenges share: they are signed with the one `TokenSigner`, and
 * they are bound to the subject who asked for them.
 *
 * The subject is bound as a hash, not as itself: a token's payload is readable by whoever holds it,
 * so a plain anonymous id inside it would hand a thief both halves. An anonymous client keeps a random
 * id (its secret) and sends it with the exchange; a signed-in subject is its account id, which the
 * request's authentication already proves.
 */
export function subjectTag(subject: string): string {
  return createHash('sha256').update(subject).digest('base64url').slice(0, 22);
}

export type SignedCheck<T> =
  { readonly ok: true; readonly claims: T & TokenClaims } | { readonly ok: false; readonly reason: 'forged' | 'expired' };

/**
 * Verifies a token and its discriminant `t`. Anything that is not a well-signed token of that kind is
 * `forged` (malformed, tampered, unknown key, another kind of token); a good one past its `e` is
 * `expired`.
 */
export function checkSigned<T extends { readonly t: string }>(
  signer: TokenSigner,
  token: string,
  nowMs: number,
  kind: T['t'],
): SignedCheck<T> {
  const v = signer.verify<T>(token, nowMs);
  if (!v.ok) return { ok: false, reason: v.reason === 'expired' ? 'expired' : 'forged' };
  if (v.claims.t !== kind) return { ok: false, reason: 'forged' };
  return { ok: true, claims: v.claims };
}
