import type { FastifyReply, FastifyRequest } from 'fastify';
import { AmphiError } from '../../errors.ts';
import type { Account } from '../../storage/store.ts';
import type { Accounts, SignedIn } from '../accounts.ts';

export const SESSION_COOKIE = 'amphi_session';

interface PresentedSession {
  readonly token: string;
  readonly via: 'bearer' | 'cookie';
}

/** The session an `Authorization` header presents; a malformed one is SESSION_INVALID. */
function bearer(header: string): PresentedSession {
  const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header);
  if (match === null) throw new AmphiError('SESSION_INVALID');
  return { token: match[1]!, via: 'bearer' };
}

function presented(request: FastifyRequest): PresentedSession | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) return bearer(header);
  const cookie = request.cookies[SESSION_COOKIE];
  return cookie === undefined || cookie === '' ? undefined : { token: cookie, via: 'cookie' };
}

/** The session token of a request: `Authorization: Bearer <token>`, else the session cookie. */
export function sessionToken(request: FastifyRequest): string | undefined {
  return presented(request)?.token;
}

/** Authenticates requests; `optional` lets anonymous callers through but refuses a bad token. */
export class RequestAuth {
  readonly #accounts: Accounts;
  readonly #secureCookies: boolean;

  constructor(accounts: Accounts, secureCookies: boolean) {
    this.#accounts = accounts;
    this.#secureCookies = secureCookies;
  }

  /**
   * The caller's account, or undefined when anonymous. A bad bearer token is an error (the client
   * asked to be someone); a stale browser cookie on a public route just means anonymous, so a
   * listener with an expired session can still press Play.
   */
  async optional(request: FastifyRequest): Promise<Account | undefined> {
    return this.#optional(presented(request));
  }

  /**
   * `optional` for a raw request that carries no session cookie (the lean join, `join-door.ts`): the
   * account of its `Authorization` header, or anonymous without one.
   */
  async optionalBearer(authorization: string | undefined): Promise<Account | undefined> {
    return this.#optional(authorization === undefined ? undefined : bearer(authorization));
  }

  async #optional(session: PresentedSession | undefined): Promise<Account | undefined> {
    if (session === undefined) return undefined;
    const account = await this.#accounts.authenticate(session.token);
    if (account === undefined && session.via === 'bearer') throw new AmphiError('SESSION_INVALID');
    return account;
  }

  async required(request: FastifyRequest): Promise<Account> {
    const session = presented(request);
    if (session === undefined) throw new AmphiError('AUTH_REQUIRED');
    const account = await this.#accounts.authenticate(session.token);
    if (account === undefined) throw new AmphiError('SESSION_INVALID');
    return account;
  }

  /** Sets the browser session cookie (HttpOnly, SameSite=Lax) alongside the bearer token. */
  setCookie(reply: FastifyReply, signedIn: SignedIn, nowMs: number): void {
    void reply.setCookie(SESSION_COOKIE, signedIn.token, {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.#secureCookies,
      path: '/',
      maxAge: Math.floor((signedIn.expiresAt - nowMs) / 1000),
    });
  }

  clearCookie(reply: FastifyReply): void {
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Routes that set the session cookie: a cross-site sign-in would plant the attacker's session (login CSRF). */
const SETS_COOKIE = new Set(['/api/accounts', '/api/sessions']);

/**
 * The refusal of a cross-site request forgery, or undefined, decided before the body is read.
 * Browsers attach the session cookie to requests another site makes (SameSite=Lax stops only some),
 * never a bearer token, so this applies to API writes without an Authorization header that carry
 * the cookie, and to sign-up and sign-in. They must come from this origin: `Sec-Fetch-Site` other
 * than `same-origin` (the web app is served from the API's origin, so `same-site` is refused too),
 * or an `Origin` other than the server's own (`server.publicUrl`, else the request's Host), is 403
 * CROSS_SITE_REQUEST; a body that is not JSON is 415, since a cross-site form can send only form
 * types or text/plain.
 */
export function crossSiteGuard(publicUrl: string | null): (request: FastifyRequest) => AmphiError | undefined {
  const ownOrigin = publicUrl === null ? undefined : new URL(publicUrl).origin;
  return (request) => {
    const route = request.routeOptions.url ?? '';
    if (!WRITES.has(request.method) || !route.startsWith('/api/') || request.headers.authorization !== undefined) return;
    const cookie = request.cookies[SESSION_COOKIE];
    if ((cookie === undefined || cookie === '') && !SETS_COOKIE.has(route)) return;
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return new AmphiError('CROSS_SITE_REQUEST');
    const origin = request.headers.origin;
    if (origin !== undefined && !isOwnOrigin(origin, ownOrigin, request.host)) return new AmphiError('CROSS_SITE_REQUEST');
    const type = request.headers['content-type'];
    if (type !== undefined && type.split(';')[0]!.trim().toLowerCase() !== 'application/json') {
      return new AmphiError('UNSUPPORTED_MEDIA_TYPE');
    }
    return undefined;
  };
}

/**
 * Whether `origin` is the server's: its public origin when configured; else the same host and port
 * as the request's Host (the scheme is not compared, since a TLS proxy in front may not say it).
 */
function isOwnOrigin(origin: string, ownOrigin: string | undefined, host: string): boolean {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    if (ownOrigin !== undefined) return url.origin === ownOrigin;
    return url.host === new URL(`${url.protocol}//${host}`).host;
  } catch {
    return false; // "null" (a sandboxed frame, a redirect across sites) or malformed
  }
}
