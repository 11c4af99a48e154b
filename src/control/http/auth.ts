import type { FastifyReply, FastifyRequest } from 'fastify';
import { AmphiError } from '../../errors.ts';
import type { Account } from '../../storage/store.ts';
import type { Accounts, SignedIn } from '../accounts.ts';

export const SESSION_COOKIE = 'amphi_session';

interface PresentedSession {
  readonly token: string;
  readonly via: 'bearer' | 'cookie';
}

function presented(request: FastifyRequest): PresentedSession | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header);
    if (match === null) throw new AmphiError('SESSION_INVALID');
    return { token: match[1]!, via: 'bearer' };
  }
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
    const session = presented(request);
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
