import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeTestApp, type TestApp } from '../helpers/app.ts';

/**
 * Finding 7: a body-less `POST /start` with the session cookie, `Content-Type: text/plain` and
 * `Origin: http://evil.example` started the Space (CSRF rested on SameSite=Lax alone).
 */

const HOST = 'amphi.example:8080';
const OWN = `http://${HOST}`;

describe('cross-site writes with the session cookie are refused', () => {
  let app: TestApp;
  let host: { id: string; token: string };
  before(async () => {
    app = await makeTestApp({ spaces: { createPerAccount: { capacity: 1000, refillPerSecond: 1 }, maxLivePerAccount: 100 } });
    host = await app.signUp('host_csrf');
  });
  after(() => app.close());

  const newSpace = async () =>
    (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Target' } })).json.space.id as string;
  /** A request as a browser sends it with the cookie: no Authorization header. */
  const withCookie = (method: string, url: string, headers: Record<string, string>, body?: unknown) =>
    app.call(method, url, { headers: { host: HOST, cookie: `amphi_session=${host.token}`, ...headers }, body });
  const state = async (id: string) => (await app.call('GET', `/api/spaces/${id}`)).json.space.state as string;

  test('the reported request: cookie, text/plain, Origin http://evil.example → 403, the Space stays scheduled', async () => {
    const id = await newSpace();
    const r = await withCookie('POST', `/api/spaces/${id}/start`, {
      origin: 'http://evil.example',
      'content-type': 'text/plain',
    });
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'CROSS_SITE_REQUEST');
    assert.equal(await state(id), 'scheduled');
  });

  test('Sec-Fetch-Site cross-site or same-site, a foreign or opaque Origin: refused on every write method', async () => {
    const id = await newSpace();
    const refusals: [string, string, Record<string, string>, unknown?][] = [
      ['POST', `/api/spaces/${id}/start`, { 'sec-fetch-site': 'cross-site' }],
      ['POST', `/api/spaces/${id}/start`, { 'sec-fetch-site': 'same-site' }],
      ['POST', `/api/spaces/${id}/start`, { origin: 'null' }],
      ['POST', `/api/spaces/${id}/start`, { origin: 'https://amphi.example.evil.example' }],
      ['POST', `/api/spaces/${id}/start`, { origin: 'http://amphi.example:8081' }],
      ['PUT', `/api/spaces/${id}/pin`, { origin: 'http://evil.example' }, { url: 'https://evil.example' }],
      ['PATCH', `/api/spaces/${id}`, { origin: 'http://evil.example' }, { allowAnonymous: false }],
      ['DELETE', `/api/sessions/current`, { origin: 'http://evil.example' }],
    ];
    for (const [method, url, headers, body] of refusals) {
      const r = await withCookie(method, url, headers, body);
      assert.equal(r.json?.error?.code, 'CROSS_SITE_REQUEST', `${method} ${url} ${JSON.stringify(headers)}: ${r.status}`);
    }
    assert.equal(await state(id), 'scheduled');
    assert.equal((await app.call('GET', '/api/me', { token: host.token })).status, 200, 'the session was not signed out');
  });

  test('the web app: same origin, JSON bodies or none → allowed; a non-JSON body with the cookie → 415', async () => {
    const id = await newSpace();
    const browser = { origin: OWN, 'sec-fetch-site': 'same-origin' };
    const form = await withCookie('POST', `/api/spaces/${id}/start`, { ...browser, 'content-type': 'text/plain' });
    assert.equal(form.status, 415);
    assert.equal(form.json.error.code, 'UNSUPPORTED_MEDIA_TYPE');
    const urlencoded = { ...browser, 'content-type': 'application/x-www-form-urlencoded' };
    assert.equal((await withCookie('PUT', `/api/spaces/${id}/pin`, urlencoded, 'url=https://x.example')).status, 415);
    assert.equal(await state(id), 'scheduled');
    // As openapi-fetch sends them: no body, no Content-Type; or JSON.
    assert.equal((await withCookie('POST', `/api/spaces/${id}/start`, browser)).status, 200);
    const json = { ...browser, 'content-type': 'application/json; charset=utf-8' };
    assert.equal((await withCookie('PUT', `/api/spaces/${id}/pin`, json, { url: 'https://notes.example' })).status, 200);
    assert.equal((await withCookie('POST', `/api/spaces/${id}/join`, json, {})).status, 200);
    // Clients that send no Origin (curl with a cookie jar, older browsers on same-origin requests).
    assert.equal((await withCookie('POST', `/api/spaces/${id}/end`, {})).status, 200);
  });

  test('bearer tokens are not sent by browsers on their own: left alone whatever the Origin', async () => {
    const id = await newSpace();
    const r = await app.call('POST', `/api/spaces/${id}/start`, {
      token: host.token,
      headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site', cookie: `amphi_session=${host.token}` },
    });
    assert.equal(r.status, 200);
  });

  test('reads and anonymous writes carry no ambient authority: not checked', async () => {
    const id = await newSpace();
    const evil = { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' };
    assert.equal((await withCookie('GET', `/api/spaces/${id}/me`, evil)).status, 200);
    assert.equal((await app.call('POST', `/api/spaces/${id}/join`, { headers: { host: HOST, ...evil } })).status, 200);
  });

  test('sign-up and sign-in from another site are refused (login CSRF); from this origin or no browser, allowed', async () => {
    const credentials = { handle: 'victim_csrf', password: 'correct horse battery' };
    const evil = await app.call('POST', '/api/accounts', {
      headers: { host: HOST, origin: 'http://evil.example' },
      body: credentials,
    });
    assert.equal(evil.status, 403);
    assert.equal(evil.headers['set-cookie'], undefined);
    assert.equal(
      (await app.call('POST', '/api/accounts', { headers: { host: HOST, origin: OWN }, body: credentials })).status,
      201,
    );
    const signIn = (headers: Record<string, string>) => app.call('POST', '/api/sessions', { headers, body: credentials });
    assert.equal((await signIn({ host: HOST, 'sec-fetch-site': 'cross-site' })).json.error.code, 'CROSS_SITE_REQUEST');
    assert.equal((await signIn({ host: HOST, origin: OWN, 'content-type': 'text/plain' })).status, 415);
    assert.equal((await signIn({ host: HOST })).status, 200);
  });
});

describe('with server.publicUrl, the Origin must be that origin', () => {
  test('the public origin is accepted, the Host header no longer decides', async () => {
    const app = await makeTestApp({ server: { publicUrl: 'https://amphi.example' } });
    try {
      const host = await app.signUp('host_public');
      const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Public' } })).json.space.id;
      const start = (headers: Record<string, string>) =>
        app.call('POST', `/api/spaces/${id}/start`, { headers: { cookie: `amphi_session=${host.token}`, ...headers } });
      assert.equal((await start({ host: 'evil.example', origin: 'http://evil.example' })).status, 403);
      assert.equal((await start({ host: 'amphi.example', origin: 'http://amphi.example' })).status, 403, 'scheme compared');
      assert.equal((await start({ host: 'internal:8080', origin: 'https://amphi.example' })).status, 200);
    } finally {
      await app.close();
    }
  });
});
