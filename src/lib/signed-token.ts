import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * Compact HMAC-SHA256 tokens: `base64url(json payload) "." base64url(mac)`. The payload carries the
 * key id (`k`) and the expiry in Unix seconds (`e`), so a token is checked with a key and a clock
 * only: no database, no call to another service. Several keys may verify at once (rotation).
 */
export interface SigningKey {
  readonly id: string;
  readonly secret: string;
}

/**
 * A configured key list (`key1,key2,...`): the first signs, all verify. Each key's id derives from its
 * secret, so every node given the same list names the keys alike, and a node with another list sees
 * tokens under a key id it does not know (`unknown_key`) instead of bad signatures.
 */
export function keyList(configured: string): SigningKey[] {
  return configured
    .split(',')
    .map((secret) => secret.trim())
    .filter((secret) => secret !== '')
    .map((secret) => ({ id: `k${createHash('sha256').update(secret).digest('hex').slice(0, 8)}`, secret }));
}

export interface TokenClaims {
  /** Expiry, Unix seconds. */
  readonly e: number;
  /** Key id. */
  readonly k: string;
}

export type VerifyResult<T> =
  | { readonly ok: true; readonly claims: T & TokenClaims }
  /** `unverified`: refused on its claims before its signature was checked (`verify`'s `refuseUnverified`). */
  | { readonly ok: false; readonly reason: 'malformed' | 'bad_signature' | 'expired' | 'unverified' }
  /** Signed (or claimed to be) with a key this signer does not hold: `keyId` names it. */
  | { readonly ok: false; readonly reason: 'unknown_key'; readonly keyId: string };

export class TokenSigner {
  readonly #current: { id: string; key: KeyObject };
  readonly #keys = new Map<string, KeyObject>();

  /** The first key signs; all keys verify. */
  constructor(keys: readonly SigningKey[]) {
    const first = keys[0];
    if (first === undefined) throw new Error('TokenSigner needs at least one key');
    for (const k of keys) this.#keys.set(k.id, createSecretKey(Buffer.from(k.secret, 'utf8')));
    this.#current = { id: first.id, key: this.#keys.get(first.id)! };
  }

  /** The ids of the keys this signer verifies with; the first is the one it signs with. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  sign(claims: object, expiresAtMs: number): string {
    const body = Buffer.from(JSON.stringify({ ...claims, e: Math.floor(expiresAtMs / 1000), k: this.#current.id })).toString(
      'base64url',
    );
    return `${body}.${mac(this.#current.key, body)}`;
  }

  // The caller names the claims it expects and checks their discriminant (`t`) itself.

  /**
   * `refuseUnverified`, for a caller that refuses every failure alike (the listener door): a test on
   * the claims as written, before the MAC is computed; true refuses at once (`unverified`), without
   * an HMAC. It may only refuse sooner what the caller would refuse anyway once verified (expired,
   * another Space, another type): unverified claims never make a token good.
   */
  verify<T extends object>(
    token: string,
    nowMs: number,
    refuseUnverified?: (claims: T & TokenClaims, nowMs: number) => boolean,
  ): VerifyResult<T> {
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.') || token.length > 4096) {
      return { ok: false, reason: 'malformed' };
    }
    // A payload is a JSON object with members, `{"...`: base64url `ey` then I, J, K or L. Anything
    // else (random junk) is refused before it is decoded.
    const third = token.charCodeAt(2);
    if (token.charCodeAt(0) !== 101 || token.charCodeAt(1) !== 121 || third < 73 || third > 76) {
      return { ok: false, reason: 'malformed' };
    }
    const body = token.slice(0, dot);
    let claims: (T & TokenClaims) | undefined;
    try {
      const json = Buffer.from(body, 'base64url').toString('utf8');
      // Random junk is refused without throwing (an exception costs more than the check).
      const parsed: unknown = json.startsWith('{"') ? JSON.parse(json) : undefined;
      if (isClaims(parsed)) claims = parsed as T & TokenClaims;
    } catch {
      // fall through: not JSON
    }
    if (claims === undefined) return { ok: false, reason: 'malformed' };
    const key = this.#keys.get(claims.k);
    if (key === undefined) return { ok: false, reason: 'unknown_key', keyId: claims.k.slice(0, 16) };
    if (refuseUnverified?.(claims, nowMs) === true) return { ok: false, reason: 'unverified' };
    // The signature's text, not its decoded bytes: base64url decoding ignores the spare low bits of
    // the last character, so bytes would accept four spellings of one token (four cache entries,
    // four rate-limit buckets). Only the one canonical spelling is accepted.
    const given = Buffer.from(token.slice(dot + 1), 'utf8');
    const expected = Buffer.from(mac(key, body), 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: 'bad_signature' };
    }
    if (claims.e * 1000 <= nowMs) return { ok: false, reason: 'expired' };
    return { ok: true, claims };
  }
}

/** The signature's canonical text (digested straight to base64url: no intermediate Buffer). */
function mac(key: KeyObject, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}

function isClaims(v: unknown): v is TokenClaims {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.e === 'number' && Number.isFinite(o.e) && typeof o.k === 'string';
}
