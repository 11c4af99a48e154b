import { randomBytes, randomFillSync } from 'node:crypto';

/**
 * Opaque random ids with a prefix that says what they name (`sp_`, `ac_`, `an_`). Every anonymous
 * join mints one, so random bytes come from a pooled buffer: one kernel call per 455 ids instead of
 * one per id (it was 6% of a join's CPU).
 */
const ID_BYTES = 9;
const pool = Buffer.alloc(ID_BYTES * 455);
let offset = pool.length;

export function newId(prefix: 'sp' | 'ac' | 'an' | 'ss' | 'wh' | 'cl' | 'au' | 'rp'): string {
  if (offset + ID_BYTES > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return `${prefix}_${id}`;
}

let sequence = 0;

/**
 * An id that sorts by the time given, then by the order this process made them (then at random):
 * for logs read newest first, where two entries in one millisecond must keep their order.
 */
export function sortableId(prefix: 'au', nowMs: number): string {
  sequence = (sequence + 1) % 36 ** 4;
  const time = Math.max(0, Math.floor(nowMs)).toString(36).padStart(9, '0');
  return `${prefix}_${time}${sequence.toString(36).padStart(4, '0')}${newId(prefix).slice(3)}`;
}

/** A 256-bit bearer secret for sessions. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}
