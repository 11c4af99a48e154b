import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Passwords are stored with scrypt, a memory-hard hash built into Node (no native add-on):
 * `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`. The cost travels with the hash, so raising
 * `auth.passwordHashCostLog2` later still verifies old hashes. Hashing runs on libuv's thread pool.
 */
const KEY_BYTES = 32;
const R = 8;
const P = 1;

function derive(password: string, salt: Buffer, log2N: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** log2N;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { N, r, p, maxmem: 256 * N * r * p }, (error, key) => {
      if (error === null) resolve(key);
      else reject(error);
    });
  });
}

export async function hashPassword(password: string, costLog2: number): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, costLog2, R, P);
  return ['scrypt', costLog2, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [log2N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const expected = Buffer.from(parts[5]!, 'base64url');
  const key = await derive(password, Buffer.from(parts[4]!, 'base64url'), log2N, r, p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}
