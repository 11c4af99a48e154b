import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { ControlEvents } from '../../src/control/events.ts';
import { makeTestApp, type Reply, type TestApp } from '../helpers/app.ts';

/**
 * The rules of `Spaces` (src/control/spaces.ts) that the wider HTTP tests leave loose: exact error
 * codes, what a no-op leaves untouched (version, bus), what a real change announces, and who ends
 * up on stage after each answer. Everything goes through the HTTP API in-process, on a fresh app.
 */

type Who = { id: string; token: string };

let app: TestApp;
let seq = 0;
/** Bus events since the app was made, in order. */
let events: { name: keyof ControlEvents; payload: unknown }[];

beforeEach(async () => {
  app = await makeTestApp();
  events = [];
  for (const name of ['space.changed', 'member.role', 'member.muted'] as const) {
    app.plane.bus.on(name, (payload) => events.push({ name, payload }));
  }
});
afterEach(() => app.close());

const signUp = () => app.signUp(`user_${++seq}`);
const ok = (r: Reply, what: string) => assert.equal(r.status, 200, `${what}: ${r.status} ${JSON.stringify(r.json)}`);
const code = (r: Reply) => (r.json as { error?: { code?: string } } | undefined)?.error?.code;
const at = (spaceId: string, path = '') => `/api/spaces/${spaceId}${path}`;

async function newSpace(state: 'scheduled' | 'live'): Promise<{ host: Who; spaceId: string }> {
  const host = await signUp();
  const r = await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Survivors' } });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  const spaceId = r.json.space.id as string;
  if (state === 'live') ok(await app.call('POST', at(spaceId, '/start'), { token: host.token }), 'start');
  return { host, spaceId };
}

async function view(spaceId: string) {
  const r = await app.call('GET', at(spaceId));
  ok(r, 'GET space');
  return r.json.space as {
    version: number;
    state: string;
    endedAt: string | null;
    pinnedLink: string | null;
    allowAnonymous: boolean;
    requestCount: number;
    stage: { id: string; role: string; muted: boolean; mutedByHost: boolean }[];
  };
}

const stageIds = async (spaceId: string) => (await view(spaceId)).stage.map((m) => m.id);
const roleOf = async (spaceId: string, id: string) => (await view(spaceId)).stage.find((m) => m.id === id)?.role;

/** A listener brought on stage by an invitation (works scheduled or live). */
async function speaker(spaceId: string, host: Who): Promise<Who> {
  const who = await signUp();
  ok(await app.call('POST', at(spaceId, '/invitations'), { token: host.token, body: { accountId: who.id } }), 'invite');
  ok(await app.call('POST', at(spaceId, '/invitations/me/accept'), { token: who.token }), 'accept invitation');
  return who;
}

async function cohost(spaceId: string, host: Who): Promise<Who> {
  const who = await speaker(spaceId, host);
  ok(await app.call('POST', at(spaceId, `/members/${who.id}/cohost`), { token: host.token }), 'make cohost');
  return who;
}

/** Runs `act` and reports what it did to the version and which events it emitted. */
async function measure(spaceId: string, act: () => Promise<Reply>) {
  const before = (await view(spaceId)).version;
  const from = events.length;
  const reply = await act();
  const after = (await view(spaceId)).version;
  return { reply, bumped: after - before, emitted: events.slice(from) };
}

describe('creating a Space: scheduledStart', () => {
  test('a scheduledStart exactly now is already in the past; one millisecond later is fine', async () => {
    const host = await signUp();
    const now = app.clock.now();
    const atNow = await app.call('POST', '/api/spaces', {
      token: host.token,
      body: { title: 'Now', scheduledStart: new Date(now).toISOString() },
    });
    assert.equal(atNow.status, 400);
    assert.equal(code(atNow), 'SCHEDULED_START_IN_PAST');
    const later = await app.call('POST', '/api/spaces', {
      token: host.token,
      body: { title: 'Later', scheduledStart: new Date(now + 1).toISOString() },
    });
    assert.equal(later.status, 201);
  });

  test('an unrepresentable time (a leap second) names the field and the problem', async () => {
    const host = await signUp();
    const r = await app.call('POST', '/api/spaces', {
      token: host.token,
      body: { title: 'Leap', scheduledStart: '2099-12-31T23:59:60Z' },
    });
    assert.equal(r.status, 400);
    assert.equal(code(r), 'VALIDATION_FAILED');
    assert.deepEqual(r.json.error.details, [{ field: 'body/scheduledStart', problem: 'is not a representable time' }]);
  });
});

describe('a real change emits exactly one space.changed; a no-op emits nothing and keeps the version', () => {
  test('changing a setting bumps the version once and announces the Space by id', async () => {
    const { host, spaceId } = await newSpace('scheduled');
    const m = await measure(spaceId, () =>
      app.call('PATCH', at(spaceId), { token: host.token, body: { allowAnonymous: false } }),
    );
    ok(m.reply, 'patch');
    assert.equal(m.bumped, 1);
    assert.deepEqual(m.emitted, [{ name: 'space.changed', payload: { spaceId } }]);
  });

  test('setting a setting to its current value changes nothing', async () => {
    const { host, spaceId } = await newSpace('scheduled');
    const m = await measure(spaceId, () => app.call('PATCH', at(spaceId), { token: host.token, body: { allowAnonymous: true } }));
    ok(m.reply, 'patch');
    assert.equal(m.bumped, 0);
    assert.deepEqual(m.emitted, []);
  });

  test('ending twice is idempotent: the second end changes nothing', async () => {
    const { host, spaceId } = await newSpace('live');
    ok(await app.call('POST', at(spaceId, '/end'), { token: host.token }), 'end');
    const endedAt = (await view(spaceId)).endedAt;
    app.clock.advance(5000);
    const m = await measure(spaceId, () => app.call('POST', at(spaceId, '/end'), { token: host.token }));
    ok(m.reply, 'end again');
    assert.equal(m.reply.json.space.state, 'ended');
    assert.equal(m.bumped, 0);
    assert.deepEqual(m.emitted, []);
    assert.equal((await view(spaceId)).endedAt, endedAt);
  });

  test('setting a reminder that is already set, or clearing one that is not, changes nothing', async () => {
    const { spaceId } = await newSpace('scheduled');
    const fan = await signUp();
    const clear = await measure(spaceId, () => app.call('DELETE', at(spaceId, '/reminder'), { token: fan.token }));
    ok(clear.reply, 'clear unset reminder');
    assert.equal(clear.bumped, 0);
    assert.deepEqual(clear.emitted, []);
    const set = await measure(spaceId, () => app.call('PUT', at(spaceId, '/reminder'), { token: fan.token }));
    assert.equal(set.bumped, 1, 'a new reminder is a change');
    const again = await measure(spaceId, () => app.call('PUT', at(spaceId, '/reminder'), { token: fan.token }));
    ok(again.reply, 'set reminder again');
    assert.equal(again.bumped, 0);
    assert.deepEqual(again.emitted, []);
  });

  test('an invitation is private: inviting changes neither the version nor the bus', async () => {
    const { host, spaceId } = await newSpace('live');
    const guest = await signUp();
    const m = await measure(spaceId, () =>
      app.call('POST', at(spaceId, '/invitations'), { token: host.token, body: { accountId: guest.id } }),
    );
    ok(m.reply, 'invite');
    assert.equal(m.bumped, 0);
    assert.deepEqual(m.emitted, []);
    assert.equal((await app.call('GET', at(spaceId, '/me'), { token: guest.token })).json.invited, true);
  });
});

describe('invitations', () => {
  test('inviting an account that does not exist is ACCOUNT_NOT_FOUND', async () => {
    const { host, spaceId } = await newSpace('live');
    const r = await app.call('POST', at(spaceId, '/invitations'), {
      token: host.token,
      body: { accountId: 'ac_000000000000' },
    });
    assert.equal(r.status, 404);
    assert.equal(code(r), 'ACCOUNT_NOT_FOUND');
  });

  test('inviting someone already on stage is ALREADY_ON_STAGE', async () => {
    const { host, spaceId } = await newSpace('live');
    const on = await speaker(spaceId, host);
    const r = await app.call('POST', at(spaceId, '/invitations'), { token: host.token, body: { accountId: on.id } });
    assert.equal(r.status, 409);
    assert.equal(code(r), 'ALREADY_ON_STAGE');
  });

  test('accepting puts the guest on stage as an unmuted speaker and announces that role once', async () => {
    const { host, spaceId } = await newSpace('live');
    const guest = await signUp();
    ok(await app.call('POST', at(spaceId, '/invitations'), { token: host.token, body: { accountId: guest.id } }), 'invite');
    const from = events.length;
    ok(await app.call('POST', at(spaceId, '/invitations/me/accept'), { token: guest.token }), 'accept');
    const entry = (await view(spaceId)).stage.find((m) => m.id === guest.id);
    assert.deepEqual(entry && { role: entry.role, muted: entry.muted, mutedByHost: entry.mutedByHost }, {
      role: 'speaker',
      muted: false,
      mutedByHost: false,
    });
    assert.deepEqual(
      events.slice(from).filter((e) => e.name === 'member.role'),
      [{ name: 'member.role', payload: { spaceId, accountId: guest.id, role: 'speaker' } }],
    );
  });

  test('declining adds nobody to the stage, announces no role, and clears the invitation', async () => {
    const { host, spaceId } = await newSpace('live');
    const guest = await signUp();
    ok(await app.call('POST', at(spaceId, '/invitations'), { token: host.token, body: { accountId: guest.id } }), 'invite');
    const from = events.length;
    ok(await app.call('POST', at(spaceId, '/invitations/me/decline'), { token: guest.token }), 'decline');
    assert.deepEqual(await stageIds(spaceId), [host.id]);
    assert.deepEqual(
      events.slice(from).filter((e) => e.name === 'member.role'),
      [],
    );
    assert.equal((await app.call('GET', at(spaceId, '/me'), { token: guest.token })).json.invited, false);
  });

  test('a guest who got on stage another way can still accept: no error, no second role announcement', async () => {
    const { host, spaceId } = await newSpace('live');
    const guest = await signUp();
    ok(await app.call('POST', at(spaceId, '/requests'), { token: guest.token }), 'request');
    ok(await app.call('POST', at(spaceId, '/invitations'), { token: host.token, body: { accountId: guest.id } }), 'invite');
    ok(await app.call('POST', at(spaceId, `/requests/${guest.id}/accept`), { token: host.token }), 'accept request');
    const from = events.length;
    const r = await app.call('POST', at(spaceId, '/invitations/me/accept'), { token: guest.token });
    ok(r, 'accept invitation while on stage');
    assert.equal(await roleOf(spaceId, guest.id), 'speaker');
    assert.deepEqual(
      events.slice(from).filter((e) => e.name === 'member.role'),
      [],
    );
    assert.equal((await app.call('GET', at(spaceId, '/me'), { token: guest.token })).json.invited, false);
  });
});

describe('requests to speak', () => {
  test('accepting someone who never asked is REQUEST_NOT_FOUND and puts nobody on stage', async () => {
    const { host, spaceId } = await newSpace('live');
    const shy = await signUp();
    const r = await app.call('POST', at(spaceId, `/requests/${shy.id}/accept`), { token: host.token });
    assert.equal(r.status, 404);
    assert.equal(code(r), 'REQUEST_NOT_FOUND');
    assert.deepEqual(await stageIds(spaceId), [host.id]);
  });

  test('declining a request adds nobody to the stage and clears the request', async () => {
    const { host, spaceId } = await newSpace('live');
    const asker = await signUp();
    ok(await app.call('POST', at(spaceId, '/requests'), { token: asker.token }), 'request');
    const from = events.length;
    ok(await app.call('POST', at(spaceId, `/requests/${asker.id}/decline`), { token: host.token }), 'decline');
    const v = await view(spaceId);
    assert.deepEqual(
      v.stage.map((m) => m.id),
      [host.id],
    );
    assert.equal(v.requestCount, 0);
    assert.deepEqual(
      events.slice(from).filter((e) => e.name === 'member.role'),
      [],
    );
  });

  test('an accepted speaker joins unmuted and not muted by the host', async () => {
    const { host, spaceId } = await newSpace('live');
    const asker = await signUp();
    ok(await app.call('POST', at(spaceId, '/requests'), { token: asker.token }), 'request');
    ok(await app.call('POST', at(spaceId, `/requests/${asker.id}/accept`), { token: host.token }), 'accept');
    const entry = (await view(spaceId)).stage.find((m) => m.id === asker.id);
    assert.equal(entry?.muted, false);
    assert.equal(entry?.mutedByHost, false);
  });
});

describe('muting', () => {
  test('the host muting a self-muted speaker marks the mute as the host’s', async () => {
    const { host, spaceId } = await newSpace('live');
    const s = await speaker(spaceId, host);
    ok(await app.call('POST', at(spaceId, `/members/${s.id}/mute`), { token: s.token }), 'self-mute');
    const selfMuted = (await view(spaceId)).stage.find((m) => m.id === s.id);
    assert.deepEqual([selfMuted?.muted, selfMuted?.mutedByHost], [true, false], 'a self-mute is not the host’s');
    const m = await measure(spaceId, () => app.call('POST', at(spaceId, `/members/${s.id}/mute`), { token: host.token }));
    ok(m.reply, 'host mute');
    const entry = (await view(spaceId)).stage.find((x) => x.id === s.id);
    assert.deepEqual([entry?.muted, entry?.mutedByHost], [true, true]);
    assert.equal(m.bumped, 1);
    assert.deepEqual(
      m.emitted.filter((e) => e.name === 'member.muted'),
      [{ name: 'member.muted', payload: { spaceId, accountId: s.id, muted: true, byHost: true } }],
    );
  });

  test('muting a speaker the host already muted changes nothing', async () => {
    const { host, spaceId } = await newSpace('live');
    const s = await speaker(spaceId, host);
    ok(await app.call('POST', at(spaceId, `/members/${s.id}/mute`), { token: host.token }), 'host mute');
    const m = await measure(spaceId, () => app.call('POST', at(spaceId, `/members/${s.id}/mute`), { token: host.token }));
    ok(m.reply, 'host mute again');
    assert.equal(m.bumped, 0);
    assert.deepEqual(m.emitted, []);
  });

  test('a listener is reported unmuted and not muted by the host', async () => {
    const { spaceId } = await newSpace('live');
    const fan = await signUp();
    const me = await app.call('GET', at(spaceId, '/me'), { token: fan.token });
    ok(me, 'me');
    assert.deepEqual([me.json.role, me.json.muted, me.json.mutedByHost], ['listener', false, false]);
  });
});

describe('moving to the audience', () => {
  test('a co-host cannot move another co-host (equal rank) to the audience', async () => {
    const { host, spaceId } = await newSpace('live');
    const a = await cohost(spaceId, host);
    const b = await cohost(spaceId, host);
    const r = await app.call('POST', at(spaceId, `/members/${b.id}/audience`), { token: a.token });
    assert.equal(r.status, 403);
    assert.equal(code(r), 'OUTRANKED');
    assert.equal(await roleOf(spaceId, b.id), 'cohost');
  });

  test('a co-host may leave the stage themselves', async () => {
    const { host, spaceId } = await newSpace('live');
    const a = await cohost(spaceId, host);
    ok(await app.call('POST', at(spaceId, `/members/${a.id}/audience`), { token: a.token }), 'leave');
    assert.deepEqual(await stageIds(spaceId), [host.id]);
  });
});

describe('co-hosts', () => {
  test('the host cannot be made a co-host: TARGET_IS_HOST, and the host stays host', async () => {
    const { host, spaceId } = await newSpace('live');
    const r = await app.call('POST', at(spaceId, `/members/${host.id}/cohost`), { token: host.token });
    assert.equal(r.status, 409);
    assert.equal(code(r), 'TARGET_IS_HOST');
    assert.equal(await roleOf(spaceId, host.id), 'host');
  });

  test('making a co-host a co-host again changes nothing', async () => {
    const { host, spaceId } = await newSpace('live');
    const c = await cohost(spaceId, host);
    const m = await measure(spaceId, () => app.call('POST', at(spaceId, `/members/${c.id}/cohost`), { token: host.token }));
    ok(m.reply, 'cohost again');
    assert.equal(m.bumped, 0);
    assert.deepEqual(m.emitted, []);
  });

  test('making a co-host a co-host again is fine even with every co-host seat taken', async () => {
    const { host, spaceId } = await newSpace('live');
    const c = await cohost(spaceId, host);
    await cohost(spaceId, host); // maxCohosts is 2 by default
    ok(await app.call('POST', at(spaceId, `/members/${c.id}/cohost`), { token: host.token }), 'cohost again when full');
  });

  test('demoting a speaker who is not a co-host is NOT_A_COHOST', async () => {
    const { host, spaceId } = await newSpace('live');
    const s = await speaker(spaceId, host);
    const m = await measure(spaceId, () => app.call('DELETE', at(spaceId, `/members/${s.id}/cohost`), { token: host.token }));
    assert.equal(m.reply.status, 409);
    assert.equal(code(m.reply), 'NOT_A_COHOST');
    assert.equal(m.bumped, 0);
  });
});

describe('stage credentials follow the Space state', () => {
  test('the host may connect before going live; a speaker must wait for SPACE_NOT_LIVE to clear', async () => {
    const { host, spaceId } = await newSpace('scheduled');
    const s = await speaker(spaceId, host);
    ok(await app.call('POST', at(spaceId, '/stage'), { token: host.token }), 'host stage credential while scheduled');
    const early = await app.call('POST', at(spaceId, '/stage'), { token: s.token });
    assert.equal(early.status, 409);
    assert.equal(code(early), 'SPACE_NOT_LIVE');
    ok(await app.call('POST', at(spaceId, '/start'), { token: host.token }), 'start');
    ok(await app.call('POST', at(spaceId, '/stage'), { token: s.token }), 'speaker stage credential once live');
  });

  test('a co-host may connect before going live too', async () => {
    const { host, spaceId } = await newSpace('scheduled');
    const c = await cohost(spaceId, host);
    ok(await app.call('POST', at(spaceId, '/stage'), { token: c.token }), 'cohost stage credential while scheduled');
  });

  test('after the end nobody gets a stage credential: SPACE_ENDED, the host included', async () => {
    const { host, spaceId } = await newSpace('live');
    ok(await app.call('POST', at(spaceId, '/end'), { token: host.token }), 'end');
    const r = await app.call('POST', at(spaceId, '/stage'), { token: host.token });
    assert.equal(r.status, 409);
    assert.equal(code(r), 'SPACE_ENDED');
  });
});

describe('a read waits for every mutation of the Space in flight on this node', () => {
  test(
    'when two mutations overlap, the first one finishing does not let a read skip the second',
    { timeout: 20_000 },
    async () => {
      const { host, spaceId } = await newSpace('scheduled');
      let transactions = 0;
      let releaseFirst!: () => void;
      let releaseSecond!: () => void;
      const first = new Promise<void>((r) => (releaseFirst = r));
      const second = new Promise<void>((r) => (releaseSecond = r));
      // The first transaction waits until the second is in flight; the second waits for the test.
      app.onStoreCall((method) => {
        if (method !== 'inSpaceTransaction') return undefined;
        transactions++;
        if (transactions === 1) return first;
        if (transactions === 2) {
          releaseFirst();
          return second;
        }
        return undefined;
      });
      let firstChanged!: () => void;
      const firstDone = new Promise<void>((r) => (firstChanged = r));
      app.plane.bus.on('space.changed', () => firstChanged());

      const patch = app.call('PATCH', at(spaceId), { token: host.token, body: { allowAnonymous: false } });
      const pin = app.call('PUT', at(spaceId, '/pin'), { token: host.token, body: { url: 'https://example.com/x' } });
      await firstDone; // the PATCH committed; the pin is still held before its transaction
      const read = app.call('GET', at(spaceId));
      // Give a read that (wrongly) does not wait every chance to finish before the pin commits.
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
      releaseSecond();
      const [r, p, q] = await Promise.all([read, patch, pin]);
      app.onStoreCall(undefined);
      ok(p, 'patch');
      ok(q, 'pin');
      ok(r, 'read');
      assert.equal(r.json.space.allowAnonymous, false);
      assert.equal(r.json.space.pinnedLink, 'https://example.com/x', 'the read waited for the pin in flight');
    },
  );
});
