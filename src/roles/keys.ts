import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyList, type SigningKey } from '../lib/signed-token.ts';

/**
 * The keys that sign and verify listener and stage tokens. From config (`tokens.signingKey` or
 * `AMPHI_SIGNING_KEY`, one key or a comma-separated list, needed when several processes must agree),
 * otherwise one generated once and kept in `<dataDir>/signing-key.json` (mode 0600) so tokens survive a
 * restart.
 */
export function loadSigningKeys(configured: string | null, dataDir: string): SigningKey[] {
  return configured === null ? [loadSigningKey(dataDir)] : keyList(configured);
}

function loadSigningKey(dataDir: string): SigningKey {
  const file = join(dataDir, 'signing-key.json');
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<SigningKey>;
    if (typeof parsed.id === 'string' && typeof parsed.secret === 'string' && parsed.secret.length >= 32) {
      return { id: parsed.id, secret: parsed.secret };
    }
    throw new Error(`${file} is not a valid signing key file; delete it to generate a new key`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key: SigningKey = { id: randomBytes(3).toString('hex'), secret: randomBytes(32).toString('base64url') };
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(file, JSON.stringify(key), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process sharing the data dir created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadSigningKey(dataDir);
    throw error;
  }
  return key;
}
