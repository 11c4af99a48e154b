import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { crossSiteGuard, sessionToken, SESSION_COOKIE } from '../../../src/control/http/auth.ts';
import { AmphiError } from '../../../src/errors.ts';

/** A request as the hooks see it: only the fields they read. */
function request(over: {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  cookie?: string;
  host?: string;
}): FastifyRequest {
  return {
    method: over.method ?? 'POST',
    routeOptions: { url: over.url ?? '/api/spaces' },
    headers: over.headers ?? {},
    cookies: over.cookie === undefined ? {} : { [SESSION_COOKIE]: over.cookie },
    host: over.host ?? 'amphi.example:8080',
  } as unknown as FastifyRequest;
}

const code = (f: () => unknown) => {
  try {
    f();
    return undefined;
  } catch (error) {
    return error instanceof AmphiError ? error.code : String(error);
  }
};

describe('the session a request presents (Stryker survivors of auth.ts)', () => {
  test('only an exact `Bearer <token>` header counts; anything around it is refused', () => {
    assert.equal(sessionToken(request({ headers: { authorization: 'Bearer abc_DEF-123' } })), 'abc_DEF-123');
    assert.equal(
      code(() => sessionToken(request({ headers: { authorization: 'xBearer abc' } }))),
      'SESSION_INVALID',
    );
    assert.equal(
      code(() => sessionToken(request({ headers: { authorization: 'Bearer abc def' } }))),
      'SESSION_INVALID',
    );
    assert.equal(
      code(() => sessionToken(request({ headers: { authorization: 'Bearer abc!' } }))),
      'SESSION_INVALID',
    );
  });

  test('the cookie is the session when there is no header; an empty cookie is no session', () => {
    assert.equal(sessionToken(request({ cookie: 'tok_from_cookie' })), 'tok_from_cookie');
    assert.equal(sessionToken(request({ cookie: '' })), undefined);
    assert.equal(sessionToken(request({})), undefined);
  });
});

describe('the cross-site guard (Stryker survivors of auth.ts)', () => {
  const guard = crossSiteGuard(null);
  const refused = (r: FastifyRequest) => guard(r)?.code;

  test('a cookie write from another site, or a same-site one, is refused; same-origin and typed-in pass', () => {
    assert.equal(refused(request({ cookie: 't', headers: { 'sec-fetch-site': 'cross-site' } })), 'CROSS_SITE_REQUEST');
    assert.equal(refused(request({ cookie: 't', headers: { 'sec-fetch-site': 'same-site' } })), 'CROSS_SITE_REQUEST');
    assert.equal(refused(request({ cookie: 't', headers: { 'sec-fetch-site': 'same-origin' } })), undefined);
    assert.equal(refused(request({ cookie: 't', headers: { 'sec-fetch-site': 'none' } })), undefined);
  });

  test('without a cookie nothing is checked, except on the routes that set one (login CSRF)', () => {
    assert.equal(refused(request({ headers: { 'sec-fetch-site': 'cross-site' } })), undefined);
    assert.equal(refused(request({ cookie: '', headers: { 'sec-fetch-site': 'cross-site' } })), undefined);
    assert.equal(refused(request({ url: '/api/sessions', headers: { 'sec-fetch-site': 'cross-site' } })), 'CROSS_SITE_REQUEST');
    assert.equal(refused(request({ url: '/api/accounts', headers: { 'sec-fetch-site': 'cross-site' } })), 'CROSS_SITE_REQUEST');
  });

  test('an Origin that is not http(s), or not a URL at all, is not this site', () => {
    assert.equal(refused(request({ cookie: 't', headers: { origin: 'http://amphi.example:8080' } })), undefined);
    assert.equal(refused(request({ cookie: 't', headers: { origin: 'ftp://amphi.example:8080' } })), 'CROSS_SITE_REQUEST');
    assert.equal(refused(request({ cookie: 't', headers: { origin: 'null' } })), 'CROSS_SITE_REQUEST');
    assert.equal(refused(request({ cookie: 't', headers: { origin: 'http://amphi.example:9090' } })), 'CROSS_SITE_REQUEST');
  });

  test('reads and bearer-token writes are never checked', () => {
    assert.equal(refused(request({ method: 'GET', cookie: 't', headers: { 'sec-fetch-site': 'cross-site' } })), undefined);
    assert.equal(
      refused(request({ cookie: 't', headers: { 'sec-fetch-site': 'cross-site', authorization: 'Bearer x' } })),
      undefined,
    );
  });
});
