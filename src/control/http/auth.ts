import type { FastifyReply, FastifyRequest } from 'fastify';
import { AmphiError } from '../../errors.ts';
import type { Account } from '../../storage/store.ts';
import type { Accounts, SignedIn } from '../accounts.ts';

export const SESSION_COOKIE = 'amphi_session';

/** The session token of a request: `Authorization: Bearer <token>`, else the session cookie. */
export function sessionToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header);
    if (match === null) throw new AmphiError('SESSION_INVALID');
    return match[1];
  }
  const cookie = request.cookies[SESSION_COOKIE];
  return cookie === undefined || cookie === '' ? undefined : cookie;
}

/** Authenticates requests; `optional` lets anonymous callers through but refuses a bad token. */
export class RequestAuth {
  readonly #accounts: Accounts;
  readonly #secureCookies: boolean;

  constructor(accounts: Accounts, secureCookies: boolean) {
    this.#accounts = accounts;
    this.#secureCookies = secureCookies;
  }

  async optional(request: FastifyRequest): Promise<Account | undefined> {
    const token = sessionToken(request);
    if (token === undefined) return undefined;
    const account = await this.#accounts.authenticate(token);
    if (account === undefined) throw new AmphiError('SESSION_INVALID');
    return account;
  }

  async required(request: FastifyRequest): Promise<Account> {
    const account = await this.optional(request);
    if (account === undefined) throw new AmphiError('AUTH_REQUIRED');
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
