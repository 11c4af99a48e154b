/**
 * The client half of the proof of work, and the rule both halves share. No Node imports: only Web
 * Crypto, TextEncoder and atob, so the same file runs in Node 24, a browser page and a Web Worker.
 *
 * The puzzle: find a `solution` (any short string) such that SHA-256(`${nonce}:${solution}`) starts
 * with `difficultyBits` zero bits. Expected work: 2^difficultyBits hashes.
 */

export interface PowPuzzle {
  readonly nonce: string;
  readonly difficultyBits: number;
}

/** Longest solution a verifier hashes; the solver's base-36 counters stay far below it. */
export const MAX_SOLUTION_LENGTH = 64;

export function powInput(nonce: string, solution: string): string {
  return `${nonce}:${solution}`;
}

export function leadingZeroBits(bytes: Uint8Array): number {
  let bits = 0;
  for (const byte of bytes) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/**
 * Reads the puzzle out of a challenge token (`base64url(json).mac`, claims `c` nonce and `d` bits)
 * without checking its signature: that is the server's business.
 */
export function readChallenge(challenge: string): PowPuzzle {
  const body = challenge.split('.')[0] ?? '';
  const binary = atob(body.replaceAll('-', '+').replaceAll('_', '/'));
  const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  const claims = JSON.parse(new TextDecoder().decode(bytes)) as { c?: unknown; d?: unknown };
  if (typeof claims.c !== 'string' || typeof claims.d !== 'number') throw new Error('not a proof-of-work challenge');
  return { nonce: claims.c, difficultyBits: claims.d };
}

export interface SolveOptions {
  /** Hashes in flight at once: Web Crypto is async, so batching hides its per-call cost. */
  readonly batch?: number;
  /** Give up after this many attempts (throws). */
  readonly maxAttempts?: number;
  readonly signal?: AbortSignal;
}

/** Finds a solution: counters in base 36, tried in order, so the same puzzle always gets the same answer. */
export async function solve(challenge: string | PowPuzzle, options: SolveOptions = {}): Promise<string> {
  const { nonce, difficultyBits } = typeof challenge === 'string' ? readChallenge(challenge) : challenge;
  const batch = options.batch ?? 256;
  const maxAttempts = options.maxAttempts ?? Number.MAX_SAFE_INTEGER;
  const encoder = new TextEncoder();
  for (let start = 0; start < maxAttempts; start += batch) {
    options.signal?.throwIfAborted();
    const tries: string[] = [];
    for (let i = start; i < Math.min(start + batch, maxAttempts); i++) tries.push(i.toString(36));
    const digests = await Promise.all(tries.map((s) => crypto.subtle.digest('SHA-256', encoder.encode(powInput(nonce, s)))));
    const found = digests.findIndex((d) => leadingZeroBits(new Uint8Array(d)) >= difficultyBits);
    if (found >= 0) return tries[found]!;
  }
  throw new Error(`no proof-of-work solution in ${maxAttempts} attempts`);
}
