import { AmphiError, errorCatalogue, type ErrorCode } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import type { OriginQuery, OriginResponse } from '../origin/plane.ts';
import type { OriginClient } from './edge.ts';

/** An edge's HTTP client to a remote origin, presenting an edge credential it signs itself. */
export class HttpOriginClient implements OriginClient {
  readonly #base: string;
  readonly #signer: TokenSigner;
  readonly #clock: Clock;
  readonly #name: string;
  #credential: { token: string; expiresAtMs: number } | undefined;

  constructor(base: string, signer: TokenSigner, clock: Clock, name = 'edge') {
    this.#base = base.replace(/\/$/, '');
    this.#signer = signer;
    this.#clock = clock;
    this.#name = name;
  }

  async get(spaceId: string, file: string, query: OriginQuery): Promise<OriginResponse> {
    const search = new URLSearchParams();
    if (query.msn !== undefined) search.set('_HLS_msn', String(query.msn));
    if (query.part !== undefined) search.set('_HLS_part', String(query.part));
    if (query.skip === true) search.set('_HLS_skip', 'YES');
    if (query.v !== undefined) search.set('v', String(query.v));
    const params = search.size === 0 ? '' : `?${search.toString()}`;
    let res: Response;
    try {
      res = await fetch(`${this.#base}/origin/${spaceId}/${file}${params}`, {
        headers: { authorization: `Bearer ${this.#token()}` },
      });
    } catch {
      throw new AmphiError('SERVICE_UNAVAILABLE', { headers: { 'retry-after': '1' } });
    }
    const body = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200) {
      let code: ErrorCode = 'SERVICE_UNAVAILABLE';
      try {
        const parsed = JSON.parse(new TextDecoder().decode(body)) as { error?: { code?: string } };
        if (parsed.error?.code !== undefined && parsed.error.code in errorCatalogue) code = parsed.error.code as ErrorCode;
      } catch {
        // not our error shape: the origin is unwell
      }
      throw new AmphiError(code, { headers: { 'retry-after': '1' } });
    }
    return {
      status: 200,
      contentType: res.headers.get('content-type') ?? 'application/octet-stream',
      cacheControl: res.headers.get('cache-control') ?? 'no-store',
      body,
    };
  }

  #token(): string {
    const now = this.#clock.now();
    if (this.#credential === undefined || this.#credential.expiresAtMs - now < 60_000) {
      const expiresAtMs = now + 3_600_000;
      this.#credential = { token: this.#signer.sign({ t: 'e', u: this.#name }, expiresAtMs), expiresAtMs };
    }
    return this.#credential.token;
  }
}

/** When an edge calls its origin unwell, judged from its own fetches. */
export interface OriginWatchPolicy {
  /** This many failed fetches in a row, and the origin is failing. */
  readonly failuresInRow: number;
  /**
   * How long a failure counts: an edge taken out of rotation gets no new listeners to fetch for, so
   * past this since the last failure it is ready again and its next fetches decide.
   */
  readonly holdMs: number;
}

export const ORIGIN_WATCH: OriginWatchPolicy = { failuresInRow: 3, holdMs: 15_000 };

export type OriginReadiness =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string; readonly failuresInRow: number; readonly lastOkAt: string | null };

/**
 * An origin client that remembers how its last fetches went, for the edge's `/readyz` (component
 * `origin`). A fetch fails when the origin cannot be reached or answers 5xx; HLS_NOT_YET_AVAILABLE (a
 * stalled Space) and every 4xx are the origin answering. Plain numbers: nothing per fetch but two writes.
 */
export class WatchedOrigin implements OriginClient {
  readonly #inner: OriginClient;
  readonly #clock: Clock;
  readonly #policy: OriginWatchPolicy;
  #failuresInRow = 0;
  #lastFailureMs = 0;
  #lastOkMs: number | undefined;
  #lastError = '';

  constructor(inner: OriginClient, clock: Clock, policy: OriginWatchPolicy = ORIGIN_WATCH) {
    this.#inner = inner;
    this.#clock = clock;
    this.#policy = policy;
  }

  async get(spaceId: string, file: string, query: OriginQuery): Promise<OriginResponse> {
    try {
      const response = await this.#inner.get(spaceId, file, query);
      this.#answered();
      return response;
    } catch (error) {
      if (originFailed(error)) {
        this.#failuresInRow++;
        this.#lastFailureMs = this.#clock.now();
        this.#lastError = error instanceof AmphiError ? error.code : String(error);
      } else this.#answered();
      throw error;
    }
  }

  readiness(): OriginReadiness {
    const failing =
      this.#failuresInRow >= this.#policy.failuresInRow && this.#clock.now() - this.#lastFailureMs < this.#policy.holdMs;
    if (!failing) return { ok: true };
    return {
      ok: false,
      reason: `the last ${this.#failuresInRow} origin fetches failed (${this.#lastError})`,
      failuresInRow: this.#failuresInRow,
      lastOkAt: this.#lastOkMs === undefined ? null : new Date(this.#lastOkMs).toISOString(),
    };
  }

  #answered(): void {
    this.#failuresInRow = 0;
    this.#lastOkMs = this.#clock.now();
  }
}

/** Unreachable, or a 5xx that is not a stalled Space's part. */
function originFailed(error: unknown): boolean {
  return !(error instanceof AmphiError) || (error.status >= 500 && error.code !== 'HLS_NOT_YET_AVAILABLE');
}
