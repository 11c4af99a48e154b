import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';

/**
 * Tests written for mutants of `listening-routes.ts` and `accounts-routes.ts` that survived the
 * suite (Stryker, README "Mutation testing"): each fails with its mutant and passes without it.
 */
describe('listening and session routes: what the mutants showed untested', () => {
  const opened: TestApp[] = [];
  after(() => Promise.all(opened.map((a) => a.close())));
  const open = async (...args: Parameters<typeof makeTestApp>) => {
    const app = await makeTestApp(...args);
    opened.push(app);
    return app;
  };

  test('GET /api/sessions/current: the account when signed in, null when not (never 401)', async () => {
    const app = await open();
    const who = await app.signUp('who_am_i');
    const signedIn = await app.call('GET', '/api/sessions/current', { token: who.token });
    assert.equal(signedIn.status, 200);
    assert.deepEqual({ id: signedIn.json.account.id, handle: signedIn.json.account.handle }, { id: who.id, handle: 'who_am_i' });
    const anonymous = await app.call('GET', '/api/sessions/current');
    assert.deepEqual([anonymous.status, anonymous.json], [200, { account: null }]);
  });

  test('GET /api/accounts/by-handle/:handle: the account, or 404 ACCOUNT_NOT_FOUND', async () => {
    const app = await open();
    const who = await app.signUp('findable');
    const found = await app.call('GET', '/api/accounts/by-handle/findable');
    assert.deepEqual([found.status, found.json.id, found.json.handle], [200, who.id, 'findable']);
    const missing = await app.call('GET', '/api/accounts/by-handle/nobody_here');
    assert.deepEqual([missing.status, missing.json.error.code], [404, 'ACCOUNT_NOT_FOUND']);
  });

  test("a join carries the fallback edges the cluster chose, with the same token in each one's URLs", async () => {
    const app = await open({}, { edges: () => ({ url: 'http://e1.test', fallbacks: ['http://e2.test', 'http://e3.test'] }) });
    const host = await app.signUp('fallback_host');
    const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Edges' } })).json.space.id as string;
    await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    const joined = await app.call('POST', `/api/spaces/${id}/join`);
    assert.equal(joined.status, 200);
    const token = joined.json.token as string;
    assert.equal(joined.json.streamUrl, `http://e1.test/l/${token}/${id}/live.mp4`);
    assert.deepEqual(joined.json.fallbacks, [
      { playlistUrl: `http://e2.test/l/${token}/${id}/index.m3u8`, streamUrl: `http://e2.test/l/${token}/${id}/live.mp4` },
      { playlistUrl: `http://e3.test/l/${token}/${id}/index.m3u8`, streamUrl: `http://e3.test/l/${token}/${id}/live.mp4` },
    ]);
  });

  test('a replay is never behind the door: past the live capacity, a replay join still gets its token', async () => {
    const recorded = new Set<string>();
    const app = await open(
      {
        admission: {
          joinBurst: 1,
          joinsPerSecond: 1,
          limits: { joinsPerAddress: { capacity: 1_000_000, refillPerSecond: 1000 } },
        },
      },
      { recordings: (id) => (recorded.has(id) ? { live: false, durationMs: 60_000 } : undefined) },
    );
    const host = await app.signUp('replay_host');
    const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Replayed' } })).json.space
      .id as string;
    await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    assert.equal((await app.call('POST', `/api/spaces/${id}/join`)).status, 200, 'the one place at the door');
    assert.equal((await app.call('POST', `/api/spaces/${id}/join`)).status, 202, 'the door is full: a place in line');
    await app.call('POST', `/api/spaces/${id}/end`, { token: host.token });
    recorded.add(id);
    for (let i = 0; i < 3; i++) {
      const replay = await app.call('POST', `/api/spaces/${id}/join`);
      assert.equal(replay.status, 200, `replay join ${i}: ${JSON.stringify(replay.json)}`);
    }
    // Renewing a replay token takes no listener slot (a live renewal the edge does not see would).
    const fan = await app.signUp('replay_fan');
    const token = (await app.call('POST', `/api/spaces/${id}/join`, { token: fan.token })).json.token as string;
    const before = app.admission.counts.readmitted;
    const renewed = await app.call('POST', `/api/spaces/${id}/join`, { token: fan.token, body: { token } });
    assert.equal(renewed.status, 200, JSON.stringify(renewed.json));
    assert.equal(app.admission.counts.readmitted, before, 'a replay renewal is not readmitted');
  });

  test('a signed-in listener in line gets no client id back (theirs is their account), even if they sent one', async () => {
    const app = await open({
      admission: { joinBurst: 1, joinsPerSecond: 1, limits: { joinsPerAddress: { capacity: 1_000_000, refillPerSecond: 1000 } } },
    });
    const host = await app.signUp('line_host');
    const fan = await app.signUp('line_fan');
    const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Line' } })).json.space.id as string;
    await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    await app.call('POST', `/api/spaces/${id}/join`);
    const queued = await app.call('POST', `/api/spaces/${id}/join`, {
      token: fan.token,
      body: { client: 'a-client-id-of-enough-length' },
    });
    assert.equal(queued.status, 202, JSON.stringify(queued.json));
    assert.equal(queued.json.client, undefined);
  });
});
