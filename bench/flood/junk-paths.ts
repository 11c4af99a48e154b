/**
 * What the junk-flood drill sends: six kinds of junk, each a pool of distinct request paths, aimed at a
 * real Space so that token junk gets past the path check to the token check.
 */
import { randomBytes } from 'node:crypto';
import { keyList, TokenSigner } from '../../src/lib/signed-token.ts';

export const JUNK_KINDS = [
  'random-token',
  'forged-token',
  'expired-token',
  'malformed-path',
  'bad-query',
  'unknown-path',
] as const;
export type JunkKind = (typeof JUNK_KINDS)[number];

export const b64 = (bytes: number) => randomBytes(bytes).toString('base64url');

/** Request paths per kind: pools of distinct junk, cycled. */
export function junkPaths(spaceId: string, signingKey: string | undefined): Record<JunkKind, string[]> {
  const files = ['index.m3u8', 'media.m3u8', 'p12.3.m4s', 'state.json', 'live.mp4', 'init.mp4'];
  const file = (i: number) => files[i % files.length]!;
  const pool = 1000;
  const signer = signingKey === undefined ? undefined : new TokenSigner(keyList(signingKey));
  const claims = () => ({ t: 'l', s: spaceId, u: `an_${b64(9)}` });
  // Forged under the real key's id, so the edge computes and compares the MAC (the costly refusal).
  const keyId = signer?.keyIds[0] ?? 'k00000000';
  const forged = () => {
    const body = Buffer.from(JSON.stringify({ ...claims(), e: Math.floor(Date.now() / 1000) + 3600, k: keyId })).toString(
      'base64url',
    );
    return `${body}.${b64(32)}`;
  };
  return {
    'random-token': Array.from({ length: pool }, (_, i) => `/l/${b64(48)}.${b64(32)}/${spaceId}/${file(i)}`),
    'forged-token': Array.from({ length: pool }, (_, i) => `/l/${forged()}/${spaceId}/${file(i)}`),
    'expired-token': Array.from(
      { length: pool },
      (_, i) => `/l/${signer?.sign(claims(), Date.now() - 60_000) ?? forged()}/${spaceId}/${file(i)}`,
    ),
    'malformed-path': [
      '/l/x/y/z',
      '/l/../../../etc/passwd',
      '/l/%2e%2e/%2e%2e/etc/passwd',
      `/l/${b64(20)}/sp_short/index.m3u8`,
      `/l/${b64(20)}/${spaceId}/INDEX.M3U8`,
      `/l/${b64(20)}/${spaceId}/../../../etc/passwd`,
      '/l//',
    ],
    // Distinct tokens, so each gets past the per-token bucket to the query check.
    'bad-query': Array.from(
      { length: pool },
      (_, i) =>
        `/l/${b64(48)}.${b64(32)}/${spaceId}/` +
        [
          'media.m3u8?_HLS_msn=abc',
          'media.m3u8?_HLS_msn=1&_HLS_part=-1',
          'state.json?v=1e99',
          'media.m3u8?_HLS_msn=99999999999999',
        ][i % 4]!,
    ),
    'unknown-path': ['/wp-login.php', '/.env', '/api/v9/nope', '/assets/..%2f..%2fpackage.json', '/l', '/admin/config.php'],
  };
}
