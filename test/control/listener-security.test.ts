import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { ListenerClaims } from '../../src/control/credentials.ts';
import { makeTestApp, type TestApp } from '../helpers/app.ts';

/** Every app a test opened, closed after the suite. */
const opened: TestApp[] = [];
after(async () => {
  for (const app of opened.splice(0)) await app.close();
});

/** A live Space on a test app with these config overrides. */
async function liveSpace(overrides: Record<string, unknown> = {}) {
  const app = await makeTestApp(overrides);
  opened.push(app);
  const host = await app.signUp('guard_host');
  const spaceId = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Guarded' } })).json.space
    .id as string;
  await app.call('POST', `/api/spaces/${spaceId}/start`, { token: host.token });
  const join = (body?: unknown, token?: string) => app.call('POST', `/api/spaces/${spaceId}/join`, { body, token });
  const subject = (token: string) => {
    const v = app.signer.verify<ListenerClaims>(token, app.clock.now());
    assert.ok(v.ok);
    return v.claims.u;
  };
  return { app, host, spaceId, join, subject };
}

const ALICE = 'alices-secret-client-id-0001';

describe('listener tokens: anonymous renewal is bound to the client’s secret and counted', () => {
  test('capacity 1 join / 20 s and maxListeners 1: others renewing one anonymous token are refused; its owner takes the place like a join', async () => {
    const { app, join, subject } = await liveSpace({
      admission: {
        maxListeners: 1,
        joinsPerSecond: 0.05,
        joinBurst: 1,
        limits: { joinsPerAddress: { capacity: 1_000_000, refillPerSecond: 1000 } },
      },
    });
    const alice = await join({ client: ALICE });
    assert.equal(alice.status, 200);
    const token = alice.json.token as string;
    const stranger = await app.signUp('guard_stranger');
    // The token leaked (it travels in URLs): five others try to renew it, without Alice's secret.
    const attempts = [
      await join({ token }),
      await join({ token, client: 'someone-elses-client-id-01' }),
      await join({ token, client: `${ALICE}x` }),
      await join({ token }, stranger.token),
      await join({ token, client: 'someone-elses-client-id-02' }, stranger.token),
    ];
    for (const r of attempts) {
      assert.equal(r.status, 401, JSON.stringify(r.json));
      assert.equal(r.json.error.code, 'LISTENER_TOKEN_INVALID');
    }
    // Alice herself, not seen listening (no edge here) while the one place is taken: join again.
    const full = await join({ token, client: ALICE });
    assert.equal(full.status, 401);
    assert.deepEqual(full.json.error.details, { reason: 'full' });
    // The place frees (the next measurement) and the bucket refills: her renewal takes it, same subject.
    app.clock.advance(20_000);
    app.admission.sample();
    const renewed = await join({ token, client: ALICE });
    assert.equal(renewed.status, 200);
    assert.equal(subject(renewed.json.token), subject(token));
    assert.equal((await join({ client: 'a-newcomer-client-id-0001' })).status, 202, 'the cap holds: newcomers wait');
  });

  test('an anonymous token joined without a client id cannot be renewed; the subject follows the client id', async () => {
    const { join, subject } = await liveSpace();
    const bare = (await join()).json.token as string;
    assert.equal((await join({ token: bare })).status, 401);
    assert.equal((await join({ token: bare, client: 'any-client-id-at-all-01' })).status, 401);
    const a = (await join({ client: ALICE })).json.token as string;
    const b = (await join({ client: ALICE })).json.token as string;
    assert.equal(subject(a), subject(b), 'one client, one listener');
    assert.match(subject(a), /^an_[A-Za-z0-9_-]{12}$/, 'shaped like any id (removable by it)');
    assert.notEqual(subject(a), subject((await join({ client: 'another-client-id-00001' })).json.token as string));
  });

  test('a removed anonymous subject gets no token: neither by renewal nor by joining again with its client id', async () => {
    const { app, host, spaceId, join, subject } = await liveSpace();
    const token = (await join({ client: ALICE })).json.token as string;
    const removed = await app.call('POST', `/api/spaces/${spaceId}/members/${subject(token)}/remove`, { token: host.token });
    assert.equal(removed.status, 200, JSON.stringify(removed.json));
    for (const body of [{ token, client: ALICE }, { client: ALICE }]) {
      const r = await join(body);
      assert.equal(r.status, 403, JSON.stringify(body));
      assert.equal(r.json.error.code, 'REMOVED_FROM_SPACE');
    }
  });
});

describe('the join body is capped (admission.limits.maxBodyBytes)', () => {
  test('a body past the limit is 413 BODY_TOO_LARGE, before any parsing', async () => {
    const { join } = await liveSpace({ admission: { limits: { maxBodyBytes: 1024 } } });
    const big = await join({ token: 'x'.repeat(2000) });
    assert.equal(big.status, 413);
    assert.equal(big.json.error.code, 'BODY_TOO_LARGE');
    assert.equal((await join({ client: ALICE })).status, 200);
  });

  test('the default (8 KiB) holds every valid join body, and nothing much larger', async () => {
    const { app, join } = await liveSpace();
    assert.equal(app.config.admission.limits.maxBodyBytes, 8192);
    const largestValid = {
      token: 'x'.repeat(4096),
      ticket: 'x'.repeat(1024),
      client: 'c'.repeat(64),
      pow: { challenge: 'x'.repeat(1024), solution: 'x'.repeat(64) },
    };
    assert.notEqual((await join(largestValid)).status, 413);
    assert.equal((await join({ token: 'x'.repeat(9000) })).status, 413, 'under the server-wide limit, over the join’s');
  });
});
