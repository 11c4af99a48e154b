import { AmphiError, rateLimited } from '../../errors.ts';
import { Type } from 'typebox';
import { sessionToken } from './auth.ts';
import { Account, Credentials, errors, Handle, NoContent, SignedIn } from './schemas.ts';
import type { App, RouteContext } from './types.ts';
import { accountView, iso } from './views.ts';

// eslint-disable-next-line max-lines-per-function -- a declarative route table: one schema and a short handler per route
export function accountRoutes(app: App, { plane, auth, clock, authLimiter }: RouteContext): void {
  const signedInView = (s: { account: Parameters<typeof accountView>[0]; token: string; expiresAt: number }) => ({
    account: accountView(s.account),
    token: s.token,
    expiresAt: iso(s.expiresAt),
  });
  const limitPasswordChecks = async (address: string) => {
    const taken = await authLimiter.take(address);
    if (!taken.ok) {
      throw rateLimited(taken.retryAfterMs);
    }
  };

  app.post(
    '/api/accounts',
    {
      schema: {
        operationId: 'createAccount',
        tags: ['accounts'],
        summary: 'Create an account; returns a session token and sets the session cookie',
        body: Credentials,
        response: { 201: SignedIn, ...errors(400, 409, 429) },
      },
    },
    async (request, reply) => {
      await limitPasswordChecks(request.ip);
      const signedIn = await plane.accounts.signUp(request.body.handle, request.body.password);
      auth.setCookie(reply, signedIn, clock.now());
      return reply.code(201).send(signedInView(signedIn));
    },
  );

  app.post(
    '/api/sessions',
    {
      schema: {
        operationId: 'signIn',
        tags: ['accounts'],
        summary: 'Sign in; returns a session token and sets the session cookie',
        body: Credentials,
        response: { 200: SignedIn, ...errors(400, 401, 429) },
      },
    },
    async (request, reply) => {
      await limitPasswordChecks(request.ip);
      const signedIn = await plane.accounts.signIn(request.body.handle, request.body.password);
      auth.setCookie(reply, signedIn, clock.now());
      return signedInView(signedIn);
    },
  );

  app.delete(
    '/api/sessions/current',
    {
      schema: {
        operationId: 'signOut',
        tags: ['accounts'],
        summary: 'Sign out: revoke this session',
        response: { 204: NoContent, ...errors(401) },
      },
    },
    async (request, reply) => {
      await auth.required(request);
      const token = sessionToken(request);
      if (token !== undefined) await plane.accounts.signOut(token);
      auth.clearCookie(reply);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/sessions/current',
    {
      schema: {
        operationId: 'getCurrentSession',
        tags: ['accounts'],
        summary: 'Who is signed in: the account, or null when anonymous (never 401, for pages that just ask)',
        response: { 200: Type.Object({ account: Type.Union([Account, Type.Null()]) }), ...errors(401) },
      },
    },
    async (request) => {
      const account = await auth.optional(request);
      return { account: account === undefined ? null : accountView(account) };
    },
  );

  app.get(
    '/api/accounts/by-handle/:handle',
    {
      schema: {
        operationId: 'getAccountByHandle',
        tags: ['accounts'],
        summary: 'Find an account by its handle (to invite someone to speak)',
        params: Type.Object({ handle: Handle }, { additionalProperties: false }),
        response: { 200: Account, ...errors(400, 404) },
      },
    },
    async (request) => {
      const found = await plane.accounts.findByHandle(request.params.handle);
      if (found === undefined) throw new AmphiError('ACCOUNT_NOT_FOUND');
      return accountView(found);
    },
  );

  app.get(
    '/api/me',
    {
      schema: {
        operationId: 'getMe',
        tags: ['accounts'],
        summary: 'The signed-in account',
        response: { 200: Account, ...errors(401) },
      },
    },
    async (request) => accountView(await auth.required(request)),
  );

  app.get(
    '/api/me/reminders',
    {
      schema: {
        operationId: 'listMyReminders',
        tags: ['accounts'],
        summary: `The scheduled Spaces the signed-in account set reminders for (ids, soonest first; up to ${MAX_REMINDERS_LISTED})`,
        response: { 200: Type.Object({ spaceIds: Type.Array(Type.String()) }), ...errors(401) },
      },
    },
    async (request) => ({ spaceIds: await plane.accounts.reminders(await auth.required(request), MAX_REMINDERS_LISTED) }),
  );
}

/** Enough for any page of upcoming Spaces; a client needing more reads each Space's relation. */
const MAX_REMINDERS_LISTED = 500;
