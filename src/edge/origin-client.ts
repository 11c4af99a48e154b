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
