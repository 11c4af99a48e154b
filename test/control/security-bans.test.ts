import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import type { ListenerClaims } from '../../src/control/credentials.ts';
import { makeTestApp, type TestApp } from '../helpers/app.ts';

/**
 * Finding 8: an anonymous listener could not be removed (ACCOUNT_NOT_FOUND), and a Space could not
 * be closed to anonymous listeners once created.
 */
describe('bans of anonymous listeners and locking anonymous joins', () => {
  let app: TestApp;
  let host: { id: string; token: string };
  let spaceId: string;
  before(async () => {
    app = await makeTestApp();
    host = await app.signUp('ban_host');
    spaceId = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Raided' } })).json.space.id;
    await app.call('POST', `/api/spaces/${spaceId}/start`, { token: host.token });
  });
  after(() => app.close());

  const url = (path: string) => `/api/spaces/${spaceId}${path}`;
  const subjectOf = (token: string) => {
    const verified = app.signer.verify<ListenerClaims>(token, app.clock.now());
    assert.ok(verified.ok);
    return verified.claims.u;
  };

  test('a host removes an anonymous listener by the subject its token carries: banned, persisted, announced', async () => {
    const client = 'a-secret-client-id-of-a-troll';
    const grant = (await app.call('POST', url('/join'), { body: { client } })).json as { token: string };
    const subject = subjectOf(grant.token);
    assert.match(subject, /^an_/);
    const removed: { spaceId: string; accountId: string }[] = [];
    app.plane.bus.on('member.removed', (e) => removed.push(e));

    const r = await app.call('POST', url(`/members/${subject}/remove`), { token: host.token });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(removed, [{ spaceId, accountId: subject }], 'the edge revokes on this event');
    assert.ok((await app.plane.spaces.snapshot(spaceId)).banned.has(subject));
    const db = new DatabaseSync(join(app.config.dataDir, 'amphi.db'), { readOnly: true });
    try {
      const rows = db.prepare('SELECT account_id, banned_by FROM bans WHERE space_id = ?').all(spaceId);
      assert.deepEqual(
        rows.map((row) => ({ ...row })),
        [{ account_id: subject, banned_by: host.id }],
      );
    } finally {
      db.close();
    }

    const renewal = await app.call('POST', url('/join'), { body: { token: grant.token, client } });
    assert.equal(renewal.json.error.code, 'REMOVED_FROM_SPACE', 'their token cannot be renewed');
    const rejoin = await app.call('POST', url('/join'), { body: { client } });
    assert.equal(rejoin.json.error.code, 'REMOVED_FROM_SPACE', 'nor can they join again with the same client id');
    assert.equal((await app.call('POST', url(`/members/${subject}/remove`), { token: host.token })).status, 200, 'idempotent');
  });

  test('only moderators remove; an unknown account id is still ACCOUNT_NOT_FOUND', async () => {
    const fan = await app.signUp('ban_fan');
    const anon = subjectOf((await app.call('POST', url('/join'))).json.token);
    assert.equal(
      (await app.call('POST', url(`/members/${anon}/remove`), { token: fan.token })).json.error.code,
      'MODERATOR_ONLY',
    );
    assert.equal((await app.call('POST', url(`/members/${anon}/remove`))).status, 401);
    const ghost = await app.call('POST', url('/members/ac_AAAAAAAAAAAA/remove'), { token: host.token });
    assert.equal(ghost.json.error.code, 'ACCOUNT_NOT_FOUND');
  });

  test('PATCH allowAnonymous: false locks out anonymous joins and renewals; signed-in listeners still join', async () => {
    const before = (await app.call('GET', url(''))).json.space as { allowAnonymous: boolean; version: number };
    assert.equal(before.allowAnonymous, true);
    const client = 'a-secret-client-id-of-a-fan';
    const earlier = (await app.call('POST', url('/join'), { body: { client } })).json.token as string;

    const locked = await app.call('PATCH', url(''), { token: host.token, body: { allowAnonymous: false } });
    assert.equal(locked.status, 200, JSON.stringify(locked.json));
    assert.equal(locked.json.space.allowAnonymous, false);
    assert.equal(locked.json.space.version, before.version + 1, 'listeners see the change');
    assert.equal((await app.call('POST', url('/join'))).json.error.code, 'AUTH_REQUIRED');
    const renewal = await app.call('POST', url('/join'), { body: { token: earlier, client } });
    assert.equal(renewal.json.error.code, 'AUTH_REQUIRED', 'nor renewed');
    const fan = await app.signUp('lock_fan');
    assert.equal((await app.call('POST', url('/join'), { token: fan.token })).status, 200);
    const again = await app.call('PATCH', url(''), { token: host.token, body: { allowAnonymous: false } });
    assert.equal(again.json.space.version, locked.json.space.version, 'no change, no new version');

    assert.equal((await app.call('PATCH', url(''), { token: host.token, body: { allowAnonymous: true } })).status, 200);
    assert.equal((await app.call('POST', url('/join'))).status, 200);
  });

  test('PATCH refuses bad bodies with 400 and an ended Space with 409', async () => {
    for (const body of [{}, { allowAnonymous: 'no' }, { allowAnonymous: true, title: 'x' }, null]) {
      const r = await app.call('PATCH', url(''), { token: host.token, body });
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    const other = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Over' } })).json.space.id;
    await app.call('POST', `/api/spaces/${other}/end`, { token: host.token });
    const ended = await app.call('PATCH', `/api/spaces/${other}`, { token: host.token, body: { allowAnonymous: false } });
    assert.equal(ended.json.error.code, 'SPACE_ENDED');
  });
});
