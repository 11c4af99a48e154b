import { randomBytes } from 'node:crypto';

/** Opaque random ids with a prefix that says what they name (`sp_`, `ac_`, `an_`). */
export function newId(prefix: 'sp' | 'ac' | 'an'): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

/** A 256-bit bearer secret for sessions. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}
