import type { TokenSigner } from '../../lib/signed-token.ts';

/**
 * The signed links in e-mails: confirm an address (a day), stop reminders to it (a year). Each names
 * the account and the address, so a link for an address the account no longer has does nothing.
 */
export interface EmailLinkClaims {
  /** `ev`: verify; `eu`: unsubscribe. */
  readonly t: 'ev' | 'eu';
  readonly a: string;
  readonly m: string;
}

export const VERIFY_LINK_TTL_MS = 86_400_000;
export const UNSUBSCRIBE_LINK_TTL_MS = 365 * 86_400_000;

export function emailLinkToken(signer: TokenSigner, kind: 'ev' | 'eu', accountId: string, email: string, nowMs: number): string {
  const claims: EmailLinkClaims = { t: kind, a: accountId, m: email };
  return signer.sign(claims, nowMs + (kind === 'ev' ? VERIFY_LINK_TTL_MS : UNSUBSCRIBE_LINK_TTL_MS));
}

/** The claims of a good link of this kind, or why not. */
export function readEmailLink(
  signer: TokenSigner,
  token: string,
  kind: 'ev' | 'eu',
  nowMs: number,
): { ok: true; accountId: string; email: string } | { ok: false; reason: 'expired' | 'invalid' } {
  const v = signer.verify<EmailLinkClaims>(token, nowMs);
  if (!v.ok) return { ok: false, reason: v.reason === 'expired' ? 'expired' : 'invalid' };
  const c = v.claims;
  if (c.t !== kind || typeof c.a !== 'string' || typeof c.m !== 'string') return { ok: false, reason: 'invalid' };
  return { ok: true, accountId: c.a, email: c.m };
}
