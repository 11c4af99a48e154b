import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';

describe('accounts and sessions', () => {
  let app: TestApp;
  before(async () => {
    app = await makeTestApp();
  });
  after(() => app.close());

  test('sign up returns the account, a bearer token and an HttpOnly session cookie', async () => {
    const r = await app.call('POST', '/api/accounts', { body: { handle: 'Alice_1', password: 'long enough pw' } });
    assert.equal(r.status, 201);
    assert.equal(r.json.account.handle, 'Alice_1');
    assert.match(r.json.token, /^[A-Za-z0-9_-]{43}$/);
    const cookie = String(r.headers['set-cookie']);
    assert.match(cookie, /amphi_session=[^;]+;/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    const me = await app.call('GET', '/api/me', { token: r.json.token });
    assert.equal(me.status, 200);
    assert.equal(me.json.id, r.json.account.id);
  });

  test('handles are unique regardless of case', async () => {
    await app.signUp('bob_x');
    const r = await app.call('POST', '/api/accounts', { body: { handle: 'BOB_X', password: 'another password' } });
    assert.equal(r.status, 409);
    assert.equal(r.json.error.code, 'HANDLE_TAKEN');
  });

  test('sign in with the right password, refused with a wrong one or unknown handle', async () => {
    await app.signUp('carol');
    const good = await app.call('POST', '/api/sessions', { body: { handle: 'CAROL', password: 'correct horse battery' } });
    assert.equal(good.status, 200);
    assert.equal(good.json.account.handle, 'carol');
    for (const body of [
      { handle: 'carol', password: 'wrong password' },
      { handle: 'nobody_here', password: 'correct horse battery' },
    ]) {
      const bad = await app.call('POST', '/api/sessions', { body });
      assert.equal(bad.status, 401);
      assert.equal(bad.json.error.code, 'INVALID_CREDENTIALS');
    }
  });

  test('the session cookie authenticates like the bearer token; sign-out revokes both', async () => {
    const { token } = await app.signUp('erin');
    const viaCookie = await app.call('GET', '/api/me', { headers: { cookie: `amphi_session=${token}` } });
    assert.equal(viaCookie.status, 200);
    const out = await app.call('DELETE', '/api/sessions/current', { token });
    assert.equal(out.status, 204);
    assert.match(String(out.headers['set-cookie']), /amphi_session=;/);
    app.clock.advance(10_000); // past the session cache
    for (const r of [
      await app.call('GET', '/api/me', { token }),
      await app.call('GET', '/api/me', { headers: { cookie: `amphi_session=${token}` } }),
    ]) {
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'SESSION_INVALID');
    }
  });

  test('sessions expire on the clock', async () => {
    const { token } = await app.signUp('frank');
    app.clock.advance(app.config.auth.sessionTtlSeconds * 1000 + 10_000);
    const r = await app.call('GET', '/api/me', { token });
    assert.equal(r.json.error.code, 'SESSION_INVALID');
  });

  test('malformed authorization and bad input get clear 4xx codes', async () => {
    assert.equal(
      (await app.call('GET', '/api/me', { headers: { authorization: 'Basic abc' } })).json.error.code,
      'SESSION_INVALID',
    );
    assert.equal((await app.call('GET', '/api/me')).json.error.code, 'AUTH_REQUIRED');
    const short = await app.call('POST', '/api/accounts', { body: { handle: 'ok_name', password: 'short' } });
    assert.equal(short.status, 400);
    assert.equal(short.json.error.code, 'VALIDATION_FAILED');
    assert.equal(short.json.error.details[0].field, 'body/password');
    const extra = await app.call('POST', '/api/accounts', { body: { handle: 'ok_name', password: 'long enough', admin: true } });
    assert.equal(extra.json.error.code, 'VALIDATION_FAILED');
    const badHandle = await app.call('POST', '/api/accounts', { body: { handle: 'no spaces!', password: 'long enough' } });
    assert.equal(badHandle.json.error.code, 'VALIDATION_FAILED');
  });
});

describe('password attempts are rate-limited per address', () => {
  test('past the bucket, 429 with Retry-After; the bucket refills on the clock', async () => {
    const app = await makeTestApp({ rateLimits: { authPerAddress: { capacity: 2, refillPerSecond: 0.5 } } });
    try {
      const attempt = () => app.call('POST', '/api/sessions', { body: { handle: 'ghost', password: 'whatever pw' } });
      assert.equal((await attempt()).status, 401);
      assert.equal((await attempt()).status, 401);
      const limited = await attempt();
      assert.equal(limited.status, 429);
      assert.equal(limited.json.error.code, 'RATE_LIMITED');
      assert.equal(limited.headers['retry-after'], '2');
      app.clock.advance(2000);
      assert.equal((await attempt()).status, 401);
    } finally {
      await app.close();
    }
  });
});

describe('behind a proxy, the limits key on the address the proxy saw (server.trustProxy)', () => {
  test('rotating the leftmost X-Forwarded-For entry does not reset the password bucket', async () => {
    const app = await makeTestApp({
      server: { trustProxy: true },
      rateLimits: { authPerAddress: { capacity: 3, refillPerSecond: 0.5 } },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        // The client writes any address it likes; the proxy appends the one the connection came from.
        const headers = { 'x-forwarded-for': `198.51.100.${i}, 203.0.113.9` };
        const reply = await app.call('POST', '/api/sessions', { headers, body: { handle: 'ghost', password: 'whatever pw' } });
        statuses.push(reply.status);
      }
      assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429]);
      // Another client behind the same proxy has its own bucket.
      const other = await app.call('POST', '/api/sessions', {
        headers: { 'x-forwarded-for': '203.0.113.10' },
        body: { handle: 'ghost', password: 'whatever pw' },
      });
      assert.equal(other.status, 401);
    } finally {
      await app.close();
    }
  });
});
