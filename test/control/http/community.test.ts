import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';

/**
 * People over HTTP: searching Spaces (words, host, topic), profiles and pictures, following hosts
 * (and the reminders it sets). Reports and operators' decisions: the second half of this file.
 */

/** A real 1×1 PNG (67 bytes). */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0')]);
const GIF = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(30)]);

type User = { id: string; token: string };

describe('search: words, host, topic', () => {
  let app: TestApp;
  const ids: Record<string, string> = {};
  before(async () => {
    app = await makeTestApp();
    const nova = await app.signUp('dj_nova');
    const mbali = await app.signUp('mbali');
    await app.call('PATCH', '/api/me/profile', { token: mbali.token, body: { displayName: 'Radio Zanzibar' } });
    const mk = async (key: string, who: User, body: object) => {
      const r = await app.call('POST', '/api/spaces', { token: who.token, body });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      ids[key] = r.json.space.id;
    };
    await mk('jazz', nova, { title: 'Late Night Jazz', tags: ['#Jazz', 'live-music'] });
    await mk('talk', nova, { title: 'Morning talk', tags: ['talk'] });
    await mk('brunch', mbali, { title: 'Sunday brunch', tags: ['jazz', 'food'] });
  });
  after(() => app.close());

  const found = async (query: string) => {
    const r = await app.call('GET', `/api/spaces?${query}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return (r.json.spaces as { id: string }[]).map((s) => Object.keys(ids).find((k) => ids[k] === s.id)).sort();
  };

  test('q: a word of the title, the host handle or display name, case-insensitively; every word must match', async () => {
    assert.deepEqual(await found('q=JAZZ'), ['jazz']);
    assert.deepEqual(await found('q=nova'), ['jazz', 'talk']);
    assert.deepEqual(await found('q=zanzibar'), ['brunch']);
    assert.deepEqual(await found('q=nova%20morning'), ['talk']);
    assert.deepEqual(await found('q=nova%20brunch'), []);
    assert.deepEqual(await found('q=%20'), ['brunch', 'jazz', 'talk'], 'blank: no filter');
  });

  test('tag (with or without #), host, and a page with its nextOffset', async () => {
    assert.deepEqual(await found('tag=jazz'), ['brunch', 'jazz']);
    assert.deepEqual(await found('tag=%23JAZZ'), ['brunch', 'jazz']);
    assert.deepEqual(await found('tag=live-music'), ['jazz']);
    assert.deepEqual(await found('tag=jaz'), []);
    assert.deepEqual(await found('host=mbali'), ['brunch']);
    assert.deepEqual(await found('host=nobody_here'), []);
    assert.deepEqual(await found('host=dj_nova&tag=jazz'), ['jazz']);
    const view = await app.call('GET', `/api/spaces/${ids.jazz}`);
    assert.deepEqual(view.json.space.tags, ['jazz', 'live-music'], 'stored lower-case, without #');
    const p1 = await app.call('GET', '/api/spaces?q=a&limit=2');
    assert.equal(p1.json.spaces.length, 2);
    assert.equal(p1.json.nextOffset, 2);
    const p2 = await app.call('GET', '/api/spaces?q=a&limit=2&offset=2');
    assert.equal(p2.json.spaces.length, 1);
    assert.equal(p2.json.nextOffset, null);
  });
});

describe('profiles and pictures', () => {
  let app: TestApp;
  let me: User;
  before(async () => {
    app = await makeTestApp();
    me = await app.signUp('pic_owner');
  });
  after(() => app.close());

  const patch = (body: object) => app.call('PATCH', '/api/me/profile', { token: me.token, body });
  const put = (data: Buffer, contentType: string) =>
    app.call('PUT', '/api/me/avatar', { token: me.token, body: { contentType, data: data.toString('base64') } });

  test('display name and bio: set, trimmed, control characters refused, empty clears', async () => {
    const r = await patch({ displayName: '  Pic Owner ', bio: 'Talks about pictures' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.user.displayName, 'Pic Owner');
    const pub = await app.call('GET', '/api/users/PIC_OWNER');
    assert.equal(pub.json.user.bio, 'Talks about pictures');
    assert.equal(pub.json.user.avatarUrl, null);
    for (const bad of [{ displayName: 'bell\u0007' }, { bio: 'esc\u001b[2J' }, {}]) {
      const refused = await patch(bad);
      assert.equal(refused.status, 400, JSON.stringify(bad));
    }
    assert.equal((await app.call('GET', '/api/users/pic_owner')).json.user.displayName, 'Pic Owner', 'unchanged');
    const cleared = await patch({ displayName: '' });
    assert.equal(cleared.json.user.displayName, null);
    assert.equal(cleared.json.user.bio, 'Talks about pictures', 'only what was sent changes');
    assert.equal((await patch({ bio: null })).json.user.bio, null);
    assert.equal((await app.call('PATCH', '/api/me/profile', { body: { bio: 'x' } })).status, 401);
    assert.equal((await app.call('GET', '/api/users/nobody_at_all')).json.error.code, 'USER_NOT_FOUND');
  });

  test('a PNG is stored and served back byte for byte, with its type; a versioned URL is immutable', async () => {
    const r = await put(PNG, 'image/png');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const url = r.json.user.avatarUrl as string;
    assert.match(url, /^\/api\/users\/pic_owner\/avatar\?v=\d+$/);
    const res = await app.app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.rawPayload, PNG);
    assert.equal(res.headers['content-type'], 'image/png');
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    const bare = await app.app.inject({ method: 'GET', url: '/api/users/pic_owner/avatar' });
    assert.deepEqual(bare.rawPayload, PNG);
    assert.equal(bare.headers['cache-control'], 'public, max-age=60', 'the bare URL may change');
    const again = await put(PNG, 'image/png');
    assert.notEqual(again.json.user.avatarUrl, url, 'a new picture, a new URL');
    const stale = await app.app.inject({ method: 'GET', url });
    assert.equal(stale.headers['cache-control'], 'public, max-age=60', 'an old version is not immutable');
  });

  test('refused: a JPEG sent as PNG, a GIF, too many bytes; removing the picture', async () => {
    const before = (await app.call('GET', '/api/users/pic_owner')).json.user.avatarUrl as string;
    for (const [data, type] of [
      [JPEG, 'image/png'],
      [PNG, 'image/jpeg'],
      [GIF, 'image/gif'],
      [Buffer.from('not a picture at all'), 'image/png'],
    ] as const) {
      const r = await put(data, type);
      assert.equal(r.status, 415, `${type}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, 'AVATAR_REFUSED');
    }
    assert.equal((await put(JPEG, 'image/jpeg')).status, 200, 'a JPEG as a JPEG is fine');
    const max = app.config.spaces.avatarMaxBytes;
    const justOver = Buffer.concat([PNG, Buffer.alloc(max + 1 - PNG.length)]);
    assert.equal((await put(justOver, 'image/png')).json.error.code, 'AVATAR_REFUSED');
    const farOver = await put(Buffer.concat([PNG, Buffer.alloc(max * 2)]), 'image/png');
    assert.equal(farOver.status, 413);
    const after = (await app.call('GET', '/api/users/pic_owner')).json.user.avatarUrl as string;
    assert.notEqual(after, before, 'only the JPEG got through');

    const del = await app.call('DELETE', '/api/me/avatar', { token: me.token });
    assert.equal(del.status, 204);
    const gone = await app.call('GET', '/api/users/pic_owner/avatar');
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.code, 'AVATAR_NOT_FOUND');
  });

  // setAvatar(null) bumps avatar_version like any change, so avatarVersion is never 0 again and the
  // profile keeps pointing at a picture that answers 404 (the web app shows a broken image, not initials).
  test('after removing the picture the profile has no avatarUrl', async () => {
    await put(PNG, 'image/png');
    assert.equal((await app.call('DELETE', '/api/me/avatar', { token: me.token })).status, 204);
    assert.equal((await app.call('GET', '/api/users/pic_owner')).json.user.avatarUrl, null);
  });
});

describe('following hosts', () => {
  let app: TestApp;
  let host: User;
  let fan: User;
  before(async () => {
    app = await makeTestApp();
    host = await app.signUp('followed_host');
    fan = await app.signUp('follower_fan');
  });
  after(() => app.close());

  const at = (min: number) => new Date(app.clock.now() + min * 60_000).toISOString();
  const create = async (body: object) =>
    (await app.call('POST', '/api/spaces', { token: host.token, body })).json.space.id as string;
  const reminded = async (spaceId: string, who = fan) =>
    (await app.call('GET', `/api/spaces/${spaceId}/me`, { token: who.token })).json.reminded as boolean;

  test('follow and unfollow: counts, the following flag, idempotent, not oneself', async () => {
    const follow = (method: string, who = fan, handle = 'followed_host') =>
      app.call(method, `/api/users/${handle}/follow`, { token: who.token });
    assert.deepEqual((await follow('PUT')).json, { following: true, followers: 1 });
    assert.deepEqual((await follow('PUT')).json, { following: true, followers: 1 }, 'idempotent');
    assert.deepEqual((await follow('PUT', host)).json, { following: false, followers: 1 }, 'nobody follows themselves');
    const seenByFan = await app.call('GET', '/api/users/followed_host', { token: fan.token });
    assert.equal(seenByFan.json.user.following, true);
    assert.equal(seenByFan.json.user.followers, 1);
    assert.equal((await app.call('GET', '/api/users/followed_host')).json.user.following, false, 'signed out');
    assert.equal((await follow('PUT', fan, 'ghost_host')).json.error.code, 'USER_NOT_FOUND');
    assert.equal((await app.call('PUT', '/api/users/followed_host/follow')).status, 401);
    assert.deepEqual((await follow('DELETE')).json, { following: false, followers: 0 });
    assert.equal((await app.call('GET', '/api/users/followed_host', { token: fan.token })).json.user.following, false);
  });

  test('a follow sets reminders on scheduled Spaces, now and later; not on live ones; not before the follow', async () => {
    const early = await create({ title: 'Before the follow', scheduledStart: at(60) });
    const live = await create({ title: 'On air' });
    await app.call('POST', `/api/spaces/${live}/start`, { token: host.token });
    const other = await app.signUp('unrelated_host');
    const elsewhere = (await app.call('POST', '/api/spaces', { token: other.token, body: { title: 'Elsewhere' } })).json.space.id;
    const bystander = await app.signUp('bystander');
    assert.equal(await reminded(early), false);

    await app.call('PUT', '/api/users/followed_host/follow', { token: fan.token });
    assert.equal(await reminded(early), true, 'the scheduled one');
    assert.equal(await reminded(live), false, 'not the live one');
    assert.equal(await reminded(elsewhere), false, "not another host's");
    const later = await create({ title: 'After the follow', scheduledStart: at(120) });
    assert.equal(await reminded(later), true, 'a Space made after the follow');
    assert.equal(await reminded(later, bystander), false, 'only followers');
    assert.equal((await app.call('GET', `/api/spaces/${later}`)).json.space.reminderCount, 1);

    await app.call('DELETE', '/api/users/followed_host/follow', { token: fan.token });
    assert.equal(await reminded(later), true, 'reminders already set stay');
    const afterUnfollow = await create({ title: 'After the unfollow', scheduledStart: at(180) });
    assert.equal(await reminded(afterUnfollow), false);
  });
});

// The reports' app, Spaces and people: shared by the two suites below (one app, one queue).
let app: TestApp;
let admin: User, host: User, reporter: User, troll: User;
let live: string, ended: string, trollLive: string;
const recorded = new Set<string>();
const report = (who: User, body: object) => app.call('POST', '/api/reports', { token: who.token, body });
const decide = (id: string, decision: string, who = admin) =>
  app.call('POST', `/api/admin/reports/${id}/decision`, {
    token: who.token,
    body: { decision, statement: `Decided: ${decision}` },
  });
const notices = async (who: User) => (await app.call('GET', '/api/me/notices', { token: who.token })).json;

function reportsApp(): void {
  before(async () => {
    app = await makeTestApp({}, { recordings: (id) => (recorded.has(id) ? { live: false, durationMs: 60_000 } : undefined) });
    admin = await app.signUp('operator');
    host = await app.signUp('rep_host');
    reporter = await app.signUp('reporter');
    troll = await app.signUp('troll');
    await app.plane.spaces.store.community().setAdmin(admin.id, true);
    const mk = async (who: User, title: string, state: 'live' | 'ended') => {
      const id = (await app.call('POST', '/api/spaces', { token: who.token, body: { title } })).json.space.id as string;
      await app.call('POST', `/api/spaces/${id}/start`, { token: who.token });
      if (state === 'ended') await app.call('POST', `/api/spaces/${id}/end`, { token: who.token });
      recorded.add(id);
      return id;
    };
    live = await mk(host, 'Still on', 'live');
    ended = await mk(host, 'Over', 'ended');
    trollLive = await mk(troll, 'Trolling', 'live');
  });
  after(() => app.close());
}

function reportTests(): void {
  test('what can be reported: not oneself, a replay only once ended, known targets; a queue for operators only', async () => {
    const r = await report(reporter, { kind: 'user', accountId: troll.id, reason: 'harassment', details: 'name-calling' });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.deepEqual([r.json.report.status, r.json.report.subject.id, r.json.report.decision], ['open', troll.id, null]);
    app.clock.advance(1000); // reports of one millisecond come in no set order (ties broken by random ids)
    assert.equal((await report(reporter, { kind: 'space', spaceId: live, reason: 'spam' })).json.report.subject.id, host.id);
    const refused = [
      [troll, { kind: 'user', accountId: troll.id, reason: 'spam' }, 'REPORT_TARGET_INVALID'],
      [host, { kind: 'space', spaceId: live, reason: 'spam' }, 'REPORT_TARGET_INVALID'],
      [reporter, { kind: 'replay', spaceId: live, reason: 'spam' }, 'REPORT_TARGET_INVALID'],
      [reporter, { kind: 'user', accountId: 'ac_AAAAAAAAAAAA', reason: 'spam' }, 'ACCOUNT_NOT_FOUND'],
      [reporter, { kind: 'space', spaceId: 'sp_AAAAAAAAAAAA', reason: 'spam' }, 'SPACE_NOT_FOUND'],
      [reporter, { kind: 'user', accountId: troll.id, reason: 'boredom' }, 'VALIDATION_FAILED'],
    ] as const;
    for (const [who, body, code] of refused) assert.equal((await report(who, body)).json.error?.code, code, JSON.stringify(body));
    assert.equal(
      (await app.call('POST', '/api/reports', { body: { kind: 'user', accountId: troll.id, reason: 'spam' } })).status,
      401,
    );

    const denied = await app.call('GET', '/api/admin/reports', { token: reporter.token });
    assert.equal(denied.status, 403);
    assert.equal(denied.json.error.code, 'ADMIN_ONLY');
    assert.equal((await decide(r.json.report.id, 'dismiss', reporter)).json.error.code, 'ADMIN_ONLY');
    assert.equal((await app.call('GET', '/api/admin/audit', { token: host.token })).json.error.code, 'ADMIN_ONLY');
    const queue = await app.call('GET', '/api/admin/reports?limit=1', { token: admin.token });
    assert.equal(queue.status, 200);
    assert.deepEqual(
      queue.json.reports.map((x: { id: string }) => x.id),
      [r.json.report.id],
      'oldest first',
    );
    assert.equal(queue.json.reports[0].reporter.id, reporter.id);
    assert.equal(queue.json.nextOffset, 1);
  });
  test('reports are rate-limited per account: the 11th in a row is 429', async () => {
    const eager = await app.signUp('eager_reporter');
    for (let i = 0; i < 10; i++) {
      const r = await report(eager, { kind: 'user', accountId: host.id, reason: 'spam', details: `#${i}` });
      assert.equal(r.status, 201, `report ${i}`);
    }
    const limited = await report(eager, { kind: 'user', accountId: host.id, reason: 'spam' });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal((await report(reporter, { kind: 'user', accountId: host.id, reason: 'spam' })).status, 201, 'per account');
  });
}

function decisionTests(): void {
  test('end_space ends the live Space; the host reads the statement, the reporter the outcome; decided once', async () => {
    const r = (await report(reporter, { kind: 'space', spaceId: live, reason: 'hate' })).json.report;
    const d = await decide(r.id, 'end_space');
    assert.equal(d.status, 200, JSON.stringify(d.json));
    assert.deepEqual([d.json.report.status, d.json.report.decision], ['decided', 'end_space']);
    assert.equal((await app.call('GET', `/api/spaces/${live}`)).json.space.state, 'ended');
    const again = await decide(r.id, 'dismiss');
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'REPORT_DECIDED');
    assert.equal((await decide('rp_AAAAAAAAAAAA', 'dismiss')).json.error.code, 'REPORT_NOT_FOUND');
    const statements = (await notices(host)).statements as { id: string; statement: string }[];
    assert.deepEqual(
      statements.map((s) => [s.id, s.statement]),
      [[r.id, 'Decided: end_space']],
    );
    const mine = (await notices(reporter)).myReports.find((x: { id: string }) => x.id === r.id);
    assert.deepEqual([mine.decision, mine.statement], ['end_space', 'Decided: end_space']);
    assert.deepEqual((await notices(reporter)).statements, [], 'the reporter is not the reported party');
  });
  test('remove_replay: the replay is gone (410); a decision that does not fit is refused; dismiss tells no one off', async () => {
    const userReport = (await report(reporter, { kind: 'user', accountId: host.id, reason: 'other' })).json.report;
    assert.equal((await decide(userReport.id, 'remove_replay')).json.error.code, 'DECISION_NOT_APPLICABLE');
    assert.equal((await decide(userReport.id, 'end_space')).json.error.code, 'DECISION_NOT_APPLICABLE');
    assert.equal((await decide(userReport.id, 'dismiss')).status, 200);
    assert.ok(!(await notices(host)).statements.some((s: { id: string }) => s.id === userReport.id), 'dismiss: no statement');

    assert.equal((await app.call('POST', `/api/spaces/${ended}/join`)).status, 200, 'the replay plays before');
    const r = (await report(reporter, { kind: 'replay', spaceId: ended, reason: 'illegal' })).json.report;
    assert.equal((await decide(r.id, 'remove_replay')).status, 200);
    const view = (await app.call('GET', `/api/spaces/${ended}`)).json.space;
    assert.equal(view.state, 'ended');
    const join = await app.call('POST', `/api/spaces/${ended}/join`);
    assert.deepEqual([join.status, join.json.error.code], [410, 'RECORDING_DELETED']);
    const file = await app.call('GET', `/api/spaces/${ended}/recording.m4a`);
    assert.deepEqual([file.status, file.json.error.code], [410, 'RECORDING_DELETED']);
    assert.equal(
      (await report(reporter, { kind: 'replay', spaceId: ended, reason: 'spam' })).json.error.code,
      'REPORT_TARGET_INVALID',
    );
    assert.ok((await notices(host)).statements.some((s: { id: string }) => s.id === r.id));
  });
  test('suspend_account: signed out, cannot sign in, live Spaces ended; the operator audit lists the decisions', async () => {
    assert.equal((await app.call('GET', '/api/me', { token: troll.token })).status, 200);
    const r = (await report(reporter, { kind: 'user', accountId: troll.id, reason: 'violence' })).json.report;
    assert.equal((await decide(r.id, 'suspend_account')).status, 200);
    // At once on the node that decided (it forgets its cached sessions); other nodes within their 5 s cache.
    assert.equal((await app.call('GET', '/api/me', { token: troll.token })).status, 401, 'the session is gone');
    const signIn = await app.call('POST', '/api/sessions', { body: { handle: 'troll', password: 'correct horse battery' } });
    assert.deepEqual([signIn.status, signIn.json.error?.code], [403, 'ACCOUNT_SUSPENDED']);
    const wrong = await app.call('POST', '/api/sessions', { body: { handle: 'troll', password: 'not the password' } });
    assert.equal(wrong.json.error.code, 'INVALID_CREDENTIALS', 'told only to whoever knows the password');
    assert.equal((await app.call('GET', `/api/spaces/${trollLive}`)).json.space.state, 'ended');

    const audit = await app.call('GET', '/api/admin/audit?limit=100', { token: admin.token });
    assert.equal(audit.status, 200);
    const decisions = (audit.json.entries as { action: string; actor: { handle: string }; target: { handle: string } }[]).filter(
      (e) => e.action.startsWith('report_'),
    );
    assert.deepEqual(decisions.map((e) => e.action).sort(), [
      'report_dismiss',
      'report_end_space',
      'report_remove_replay',
      'report_suspend_account',
    ]);
    assert.ok(decisions.every((e) => e.actor.handle === 'operator'));
    assert.equal(decisions.find((e) => e.action === 'report_suspend_account')?.target.handle, 'troll');
  });
}

describe('reports and operators’ decisions', () => {
  reportsApp();
  describe('reports', reportTests);
  describe('decisions', decisionTests);
});
