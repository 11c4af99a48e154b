import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ControlEvents } from '../../../src/control/events.ts';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';

describe('Spaces: lifecycle, listing, public view', () => {
  let app: TestApp;
  let host: { id: string; token: string };
  before(async () => {
    app = await makeTestApp();
    host = await app.signUp('host_one');
  });
  after(() => app.close());

  const create = async (body: object) => {
    const r = await app.call('POST', '/api/spaces', { token: host.token, body });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return r.json.space as { id: string; state: string; version: number };
  };

  test('scheduled → live → ended, each transition stamped, announced and idempotent', async () => {
    const events: (keyof ControlEvents)[] = [];
    app.plane.bus.on('space.started', () => events.push('space.started'));
    app.plane.bus.on('space.ended', () => events.push('space.ended'));
    const start = new Date(app.clock.now() + 3_600_000).toISOString();
    const space = await create({ title: '  Launch night  ', scheduledStart: start });
    assert.equal(space.state, 'scheduled');
    const view = await app.call('GET', `/api/spaces/${space.id}`);
    assert.equal(view.json.space.title, 'Launch night');
    assert.equal(view.json.space.scheduledStart, start);
    assert.deepEqual(
      view.json.space.stage.map((m: { role: string }) => m.role),
      ['host'],
    );

    app.clock.advance(1000);
    const live = await app.call('POST', `/api/spaces/${space.id}/start`, { token: host.token });
    assert.equal(live.json.space.state, 'live');
    assert.equal(live.json.space.startedAt, new Date(app.clock.now()).toISOString());
    const again = await app.call('POST', `/api/spaces/${space.id}/start`, { token: host.token });
    assert.equal(again.status, 200);
    assert.equal(again.json.space.version, live.json.space.version, 'a repeated start changes nothing');

    const ended = await app.call('POST', `/api/spaces/${space.id}/end`, { token: host.token });
    assert.equal(ended.json.space.state, 'ended');
    assert.equal((await app.call('POST', `/api/spaces/${space.id}/end`, { token: host.token })).status, 200);
    const restart = await app.call('POST', `/api/spaces/${space.id}/start`, { token: host.token });
    assert.equal(restart.json.error.code, 'SPACE_ENDED');
    assert.deepEqual(events, ['space.started', 'space.ended']);
  });

  test('a scheduled start in the past is refused', async () => {
    const r = await app.call('POST', '/api/spaces', {
      token: host.token,
      body: { title: 'Late', scheduledStart: new Date(app.clock.now() - 1000).toISOString() },
    });
    assert.equal(r.json.error.code, 'SCHEDULED_START_IN_PAST');
  });

  test('the host moves the start: the view, its version and the calendar follow; bad times are refused', async () => {
    const at = (min: number) => new Date(app.clock.now() + min * 60_000).toISOString();
    const space = await create({ title: 'Moved', scheduledStart: at(60) });
    const patch = (body: object, token = host.token) => app.call('PATCH', `/api/spaces/${space.id}`, { token, body });
    const moved = await patch({ scheduledStart: at(75) });
    assert.equal(moved.status, 200, JSON.stringify(moved.json));
    assert.equal(moved.json.space.scheduledStart, at(75));
    assert.equal(moved.json.space.version, space.version + 1, 'listeners see the change');
    assert.equal(moved.json.space.backstage, null, 'this process holds no stage: it does not pretend to know');
    const ics = await app.call('GET', `/api/spaces/${space.id}/calendar.ics`);
    assert.match(String(ics.json), new RegExp(`DTSTART:${at(75).replace(/[-:]/g, '').slice(0, 15)}Z`));
    assert.equal((await patch({ scheduledStart: at(75) })).json.space.version, space.version + 1, 'the same time: no change');
    assert.equal((await patch({ scheduledStart: at(-1) })).json.error.code, 'SCHEDULED_START_IN_PAST');
    assert.equal((await patch({ scheduledStart: 'tomorrow' })).json.error.code, 'VALIDATION_FAILED');
    assert.equal((await patch({})).json.error.code, 'VALIDATION_FAILED');
    const both = await patch({ scheduledStart: at(90), allowAnonymous: false });
    assert.deepEqual([both.json.space.scheduledStart, both.json.space.allowAnonymous], [at(90), false]);
  });

  test('list by state, in a useful order, with pagination', async () => {
    const solo = await makeTestApp();
    try {
      const h = await solo.signUp('lister');
      const mk = async (title: string, inMs?: number) => {
        const body = inMs === undefined ? { title } : { title, scheduledStart: new Date(solo.clock.now() + inMs).toISOString() };
        return (await solo.call('POST', '/api/spaces', { token: h.token, body })).json.space.id as string;
      };
      const later = await mk('later', 7_200_000);
      const sooner = await mk('sooner', 3_600_000);
      const whenever = await mk('whenever');
      const a = await mk('live a');
      solo.clock.advance(10);
      const b = await mk('live b');
      for (const id of [a, b]) {
        solo.clock.advance(10);
        await solo.call('POST', `/api/spaces/${id}/start`, { token: h.token });
      }
      const titles = async (q: string) =>
        (await solo.call('GET', `/api/spaces?${q}`)).json.spaces.map((s: { id: string }) => s.id) as string[];
      assert.deepEqual(await titles('state=scheduled'), [sooner, later, whenever]);
      assert.deepEqual(await titles('state=live'), [b, a]);
      assert.deepEqual(await titles('state=ended'), []);
      const page1 = await solo.call('GET', '/api/spaces?state=scheduled&limit=2');
      assert.equal(page1.json.spaces.length, 2);
      assert.equal(page1.json.nextOffset, 2);
      const whole = await solo.call('GET', '/api/spaces?state=scheduled&limit=3');
      assert.equal(whole.json.spaces.length, 3);
      assert.equal(whole.json.nextOffset, null, 'exactly one page: no next one');
      const page2 = await solo.call('GET', '/api/spaces?state=scheduled&limit=2&offset=2');
      assert.deepEqual(
        page2.json.spaces.map((s: { id: string }) => s.id),
        [whenever],
      );
      assert.equal(page2.json.nextOffset, null);
      assert.equal((await solo.call('GET', '/api/spaces?state=paused')).json.error.code, 'VALIDATION_FAILED');
    } finally {
      await solo.close();
    }
  });

  test('GET /api/spaces/:id is public, the same for every caller, cacheable for a second, with ETag', async () => {
    const space = await create({ title: 'Cache me' });
    const other = await app.signUp('someone_else');
    const anon = await app.call('GET', `/api/spaces/${space.id}`);
    const asHost = await app.call('GET', `/api/spaces/${space.id}`, { token: host.token });
    const asOther = await app.call('GET', `/api/spaces/${space.id}`, { token: other.token });
    assert.deepEqual(anon.json, asHost.json);
    assert.deepEqual(anon.json, asOther.json);
    assert.equal(anon.headers['cache-control'], 'public, max-age=1');
    const etag = String(anon.headers.etag);
    assert.match(etag, /^"[A-Za-z0-9_-]{16}"$/, 'a short strong validator');
    const notModified = await app.call('GET', `/api/spaces/${space.id}`, { headers: { 'if-none-match': etag } });
    assert.equal(notModified.status, 304);
    await app.call('PUT', `/api/spaces/${space.id}/pin`, { token: host.token, body: { url: 'https://example.org/' } });
    const changed = await app.call('GET', `/api/spaces/${space.id}`, { headers: { 'if-none-match': etag } });
    assert.equal(changed.status, 200);
    assert.equal(changed.json.space.pinnedLink, 'https://example.org/');
    assert.ok(changed.json.space.version > anon.json.space.version);
  });

  test('reminders are counted per account, only while scheduled', async () => {
    const space = await create({ title: 'Remind me', scheduledStart: new Date(app.clock.now() + 60_000).toISOString() });
    const fans = await Promise.all(['fan_a', 'fan_b'].map((h) => app.signUp(h)));
    for (const fan of fans) await app.call('PUT', `/api/spaces/${space.id}/reminder`, { token: fan.token });
    await app.call('PUT', `/api/spaces/${space.id}/reminder`, { token: fans[0]!.token }); // twice counts once
    assert.equal((await app.call('GET', `/api/spaces/${space.id}`)).json.space.reminderCount, 2);
    const me = await app.call('GET', `/api/spaces/${space.id}/me`, { token: fans[0]!.token });
    assert.equal(me.json.reminded, true);
    await app.call('DELETE', `/api/spaces/${space.id}/reminder`, { token: fans[1]!.token });
    assert.equal((await app.call('GET', `/api/spaces/${space.id}`)).json.space.reminderCount, 1);
  });

  test('my reminders: the scheduled Spaces I asked for, soonest first; undone, gone; once live, off the list', async () => {
    const fan = await app.signUp('fan_list');
    const at = (minutes: number) => new Date(app.clock.now() + minutes * 60_000).toISOString();
    const later = await create({ title: 'Later', scheduledStart: at(90) });
    const sooner = await create({ title: 'Sooner', scheduledStart: at(30) });
    const skipped = await create({ title: 'Not for me', scheduledStart: at(10) });
    const mine = async () => (await app.call('GET', '/api/me/reminders', { token: fan.token })).json.spaceIds as string[];
    assert.deepEqual(await mine(), []);
    for (const s of [later, sooner]) await app.call('PUT', `/api/spaces/${s.id}/reminder`, { token: fan.token });
    assert.deepEqual(await mine(), [sooner.id, later.id]);
    assert.ok(!(await mine()).includes(skipped.id));
    await app.call('DELETE', `/api/spaces/${later.id}/reminder`, { token: fan.token });
    assert.deepEqual(await mine(), [sooner.id]);
    await app.call('POST', `/api/spaces/${sooner.id}/start`, { token: host.token });
    assert.deepEqual(await mine(), [], 'a Space that went live needs no reminder');
    assert.equal((await app.call('GET', '/api/me/reminders')).json.error.code, 'AUTH_REQUIRED');
  });
});

describe('stage roles: the speaking-request lifecycle and limits', () => {
  test('request → accept → speaker; limits on speakers and co-hosts; mute flags', async () => {
    const app = await makeTestApp({ spaces: { maxSpeakers: 2, maxCohosts: 1 } });
    try {
      const host = await app.signUp('stage_host');
      const people = await Promise.all(['p_one', 'p_two', 'p_three'].map((h) => app.signUp(h)));
      const [one, two, three] = people as [typeof host, typeof host, typeof host];
      const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Stage' } })).json.space.id as string;
      const url = (p: string) => `/api/spaces/${id}${p}`;
      assert.equal((await app.call('POST', url('/requests'), { token: one.token })).json.error.code, 'SPACE_NOT_LIVE');
      await app.call('POST', url('/start'), { token: host.token });
      for (const p of people) {
        app.clock.advance(1);
        assert.equal((await app.call('POST', url('/requests'), { token: p.token })).status, 200);
      }
      assert.equal((await app.call('GET', url(''))).json.space.requestCount, 3);
      const pending = await app.call('GET', url('/requests'), { token: host.token });
      assert.deepEqual(
        pending.json.requests.map((r: { id: string }) => r.id),
        [one.id, two.id, three.id],
      );

      await app.call('POST', url(`/requests/${one.id}/accept`), { token: host.token });
      await app.call('POST', url(`/requests/${two.id}/accept`), { token: host.token });
      const full = await app.call('POST', url(`/requests/${three.id}/accept`), { token: host.token });
      assert.equal(full.json.error.code, 'STAGE_FULL');
      assert.equal((await app.call('GET', url('/me'), { token: three.token })).json.requestPending, true, 'still waiting');

      // Making one co-host frees a speaker seat; a second co-host is over the limit.
      await app.call('POST', url(`/members/${one.id}/cohost`), { token: host.token });
      const accepted = await app.call('POST', url(`/requests/${three.id}/accept`), { token: one.token });
      assert.equal(accepted.status, 200, JSON.stringify(accepted.json));
      assert.equal(
        (await app.call('POST', url(`/members/${two.id}/cohost`), { token: host.token })).json.error.code,
        'COHOSTS_FULL',
      );
      assert.equal(
        (await app.call('DELETE', url(`/members/${one.id}/cohost`), { token: host.token })).json.error.code,
        'STAGE_FULL',
      );

      // Muted by a co-host: visible flag; only the speaker can unmute, which clears it.
      const muted = await app.call('POST', url(`/members/${two.id}/mute`), { token: one.token });
      const twoView = muted.json.space.stage.find((m: { id: string }) => m.id === two.id);
      assert.deepEqual([twoView.muted, twoView.mutedByHost], [true, true]);
      const unmuted = await app.call('POST', url(`/members/${two.id}/unmute`), { token: two.token });
      const after = unmuted.json.space.stage.find((m: { id: string }) => m.id === two.id);
      assert.deepEqual([after.muted, after.mutedByHost], [false, false]);
      const selfMuted = await app.call('POST', url(`/members/${two.id}/mute`), { token: two.token });
      assert.equal(selfMuted.json.space.stage.find((m: { id: string }) => m.id === two.id).mutedByHost, false);

      // Leaving the stage and requesting again works; removing is for good.
      await app.call('POST', url(`/members/${three.id}/audience`), { token: three.token });
      assert.equal((await app.call('GET', url('/me'), { token: three.token })).json.role, 'listener');
      await app.call('POST', url(`/members/${three.id}/remove`), { token: host.token });
      assert.equal((await app.call('GET', url('/me'), { token: three.token })).json.role, 'removed');
      assert.equal((await app.call('POST', url('/requests'), { token: three.token })).json.error.code, 'REMOVED_FROM_SPACE');
      assert.equal((await app.call('POST', url('/join'), { token: three.token })).json.error.code, 'REMOVED_FROM_SPACE');
      const invite = await app.call('POST', url('/invitations'), { token: host.token, body: { accountId: three.id } });
      assert.equal(invite.json.error.code, 'TARGET_REMOVED');
    } finally {
      await app.close();
    }
  });

  test('muting others needs a higher rank: a co-host cannot mute the host or another co-host', async () => {
    const app = await makeTestApp();
    try {
      const host = await app.signUp('rank_host');
      const [a, b] = [await app.signUp('rank_cohost_a'), await app.signUp('rank_cohost_b')];
      const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Ranks' } })).json.space.id as string;
      const url = (p: string) => `/api/spaces/${id}${p}`;
      await app.call('POST', url('/start'), { token: host.token });
      for (const c of [a, b]) {
        await app.call('POST', url('/requests'), { token: c.token });
        await app.call('POST', url(`/requests/${c.id}/accept`), { token: host.token });
        assert.equal((await app.call('POST', url(`/members/${c.id}/cohost`), { token: host.token })).status, 200);
      }
      const stageOf = async (who: string) =>
        ((await app.call('GET', url(''))).json.space.stage as { id: string; muted: boolean }[]).find((m) => m.id === who);
      for (const [target, name] of [
        [host.id, 'the host'],
        [b.id, 'another co-host'],
      ] as const) {
        const r = await app.call('POST', url(`/members/${target}/mute`), { token: a.token });
        assert.equal(r.status, 403, `a co-host mutes ${name}: ${JSON.stringify(r.json)}`);
        assert.equal(r.json.error.code, 'OUTRANKED');
        assert.equal((await stageOf(target))?.muted, false, `${name} is still unmuted`);
      }
      const byHost = await app.call('POST', url(`/members/${a.id}/mute`), { token: host.token });
      assert.equal(byHost.status, 200, 'the host outranks a co-host');
      assert.equal((await stageOf(a.id))?.muted, true);
    } finally {
      await app.close();
    }
  });

  test('control events tell the media planes about mutes, role changes, removals and the end', async () => {
    const app = await makeTestApp();
    try {
      const seen: string[] = [];
      const { bus } = app.plane;
      bus.on('member.muted', (e) => seen.push(`muted ${e.muted} byHost ${e.byHost}`));
      bus.on('member.role', (e) => seen.push(`role ${e.role}`));
      bus.on('member.removed', () => seen.push('removed'));
      bus.on('space.ended', () => seen.push('ended'));
      const host = await app.signUp('ev_host');
      const sp = await app.signUp('ev_speaker');
      const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Events' } })).json.space
        .id as string;
      const url = (p: string) => `/api/spaces/${id}${p}`;
      await app.call('POST', url('/start'), { token: host.token });
      await app.call('POST', url('/requests'), { token: sp.token });
      await app.call('POST', url(`/requests/${sp.id}/accept`), { token: host.token });
      await app.call('POST', url(`/members/${sp.id}/mute`), { token: host.token });
      await app.call('POST', url(`/members/${sp.id}/audience`), { token: host.token });
      await app.call('POST', url(`/members/${sp.id}/remove`), { token: host.token });
      await app.call('POST', url('/end'), { token: host.token });
      assert.deepEqual(seen, ['role speaker', 'muted true byHost true', 'role listener', 'removed', 'ended']);
    } finally {
      await app.close();
    }
  });

  test('reactions are counted and rate-limited per account', async () => {
    const app = await makeTestApp({ rateLimits: { reactionsPerAccount: { capacity: 2, refillPerSecond: 1 } } });
    try {
      const host = await app.signUp('r_host');
      const fan = await app.signUp('r_fan');
      const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Reactions' } })).json.space
        .id as string;
      await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
      const react = (token: string, emoji = '🔥') => app.call('POST', `/api/spaces/${id}/reactions`, { token, body: { emoji } });
      assert.equal((await react(fan.token)).status, 202);
      assert.equal((await react(fan.token)).status, 202);
      const limited = await react(fan.token);
      assert.equal(limited.json.error.code, 'RATE_LIMITED');
      assert.equal((await react(host.token, '👏')).status, 202, 'another account has its own bucket');
      app.clock.advance(1000);
      assert.equal((await react(fan.token)).status, 202);
      assert.equal((await react(fan.token, 'not-an-emoji')).json.error.code, 'VALIDATION_FAILED');
      const view = await app.call('GET', `/api/spaces/${id}`);
      assert.deepEqual(view.json.space.reactions, [
        { emoji: '🔥', count: 3 },
        { emoji: '👏', count: 1 },
      ]);
    } finally {
      await app.close();
    }
  });
});
