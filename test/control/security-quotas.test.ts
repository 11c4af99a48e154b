import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeTestApp, type TestApp } from '../helpers/app.ts';

/** Finding 4: one account could create 300 Spaces in 1.8 s and hold any number live. */

async function withApp(overrides: Record<string, unknown>, run: (app: TestApp) => Promise<void>): Promise<void> {
  const app = await makeTestApp(overrides);
  try {
    await run(app);
  } finally {
    await app.close();
  }
}

const create = (app: TestApp, token: string, body: object = { title: 'Spam' }) =>
  app.call('POST', '/api/spaces', { token, body });

describe('per-account Space quotas', () => {
  test('300 creations in a burst: the default bucket lets 20 through, the rest are 429 with Retry-After', async () => {
    await withApp({}, async (app) => {
      const spammer = await app.signUp('spammer');
      const statuses: number[] = [];
      for (let i = 0; i < 300; i++) statuses.push((await create(app, spammer.token)).status);
      assert.equal(statuses.filter((s) => s === 201).length, 20);
      assert.equal(statuses.filter((s) => s === 429).length, 280);
      const refused = await create(app, spammer.token);
      assert.equal(refused.json.error.code, 'SPACE_QUOTA_EXCEEDED');
      assert.equal(refused.headers['retry-after'], '180', 'one Space per 3 minutes at 20 per hour');
      const other = await app.signUp('bystander');
      assert.equal((await create(app, other.token)).status, 201, 'the bucket is per account');
    });
  });

  test('the bucket refills on the clock, and a refused request costs nothing', async () => {
    const spaces = { createPerAccount: { capacity: 2, refillPerSecond: 1 / 60 } };
    await withApp({ spaces }, async (app) => {
      const host = await app.signUp('host');
      const past = new Date(app.clock.now() - 1000).toISOString();
      assert.equal(
        (await create(app, host.token, { title: 'Late', scheduledStart: past })).json.error.code,
        'SCHEDULED_START_IN_PAST',
      );
      assert.equal((await create(app, host.token, { title: '\u202Eevil' })).status, 400);
      assert.equal((await create(app, host.token)).status, 201);
      assert.equal((await create(app, host.token)).status, 201);
      const refused = await create(app, host.token);
      assert.equal(refused.status, 429);
      assert.equal(refused.headers['retry-after'], '60');
      app.clock.advance(59_000);
      assert.equal((await create(app, host.token)).status, 429);
      app.clock.advance(1_000);
      assert.equal((await create(app, host.token)).status, 201);
      assert.equal((await create(app, host.token)).status, 429);
    });
  });

  test('at most maxLivePerAccount live Spaces per host: one more is 409 until one ends', async () => {
    await withApp({ spaces: { maxLivePerAccount: 2 } }, async (app) => {
      const host = await app.signUp('host');
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await create(app, host.token)).json.space.id as string);
      const start = (id: string) => app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
      assert.equal((await start(ids[0]!)).status, 200);
      assert.equal((await start(ids[1]!)).status, 200);
      const third = await start(ids[2]!);
      assert.equal(third.status, 409);
      assert.equal(third.json.error.code, 'LIVE_SPACES_LIMIT');
      assert.equal((await app.call('GET', `/api/spaces/${ids[2]}`)).json.space.state, 'scheduled');
      assert.equal((await start(ids[1]!)).status, 200, 'starting a live Space again is still a no-op, not a refusal');
      const other = await app.signUp('other_host');
      const theirs = (await create(app, other.token)).json.space.id as string;
      assert.equal((await app.call('POST', `/api/spaces/${theirs}/start`, { token: other.token })).status, 200, 'per host');
      await app.call('POST', `/api/spaces/${ids[0]}/end`, { token: host.token });
      assert.equal((await start(ids[2]!)).status, 200, 'an ended Space frees its place');
    });
  });

  test('two starts at once cannot both take the last live place', async () => {
    await withApp({ spaces: { maxLivePerAccount: 1 } }, async (app) => {
      const host = await app.signUp('host');
      const ids = [(await create(app, host.token)).json.space.id, (await create(app, host.token)).json.space.id] as string[];
      const replies = await Promise.all(ids.map((id) => app.call('POST', `/api/spaces/${id}/start`, { token: host.token })));
      assert.deepEqual(replies.map((r) => r.status).sort(), [200, 409]);
      assert.equal((await app.call('GET', '/api/spaces?state=live')).json.spaces.length, 1);
    });
  });
});
