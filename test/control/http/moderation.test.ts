import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { ListenerClaims } from '../../../src/control/credentials.ts';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';

/**
 * Hosts and co-hosts over HTTP: handing a Space over, co-hosts ending it, lifting removals, blocking
 * someone from all of a host's Spaces, the audience list, the audit log and the analytics.
 */

type User = { id: string; token: string };

/** One app per suite; helpers for the usual moves. */
function rig() {
  const recorded = new Set<string>();
  const r = {
    app: undefined as unknown as TestApp,
    recorded,
    async open() {
      r.app = await makeTestApp({}, { recordings: (id) => (recorded.has(id) ? { live: false, durationMs: 60_000 } : undefined) });
    },
    call: (method: string, url: string, who?: User, body?: unknown) => r.app.call(method, url, { token: who?.token, body }),
    async live(host: User, title = 'A Space', start = true): Promise<string> {
      const id = (await r.call('POST', '/api/spaces', host, { title })).json.space.id as string;
      if (start) assert.equal((await r.call('POST', `/api/spaces/${id}/start`, host)).status, 200);
      return id;
    },
    /** Puts `who` on stage by invitation, as a speaker or (by the host) a co-host. */
    async onStage(spaceId: string, host: User, who: User, role: 'speaker' | 'cohost' = 'speaker') {
      assert.equal((await r.call('POST', `/api/spaces/${spaceId}/invitations`, host, { accountId: who.id })).status, 200);
      assert.equal((await r.call('POST', `/api/spaces/${spaceId}/invitations/me/accept`, who)).status, 200);
      if (role === 'cohost')
        assert.equal((await r.call('POST', `/api/spaces/${spaceId}/members/${who.id}/cohost`, host)).status, 200);
    },
    role: async (spaceId: string, who: User) => (await r.call('GET', `/api/spaces/${spaceId}/me`, who)).json.role as string,
    join: (spaceId: string, who?: User, body?: object) => r.call('POST', `/api/spaces/${spaceId}/join`, who, body),
    code: (reply: { json: { error?: { code: string } } }) => reply.json.error?.code,
  };
  return r;
}

describe('handover and co-hosts ending', () => {
  const r = rig();
  let host: User, cohost: User, speaker: User;
  before(async () => {
    await r.open();
    host = await r.app.signUp('ho_host');
    cohost = await r.app.signUp('ho_cohost');
    speaker = await r.app.signUp('ho_speaker');
  });
  after(() => r.app.close());

  test('the host hands over to a co-host: roles swap; only a co-host may receive it; only the host gives it', async () => {
    const id = await r.live(host);
    await r.onStage(id, host, cohost, 'cohost');
    await r.onStage(id, host, speaker);
    const handover = (who: User, to: User) => r.call('POST', `/api/spaces/${id}/handover`, who, { accountId: to.id });
    const toSpeaker = await handover(host, speaker);
    assert.deepEqual([toSpeaker.status, r.code(toSpeaker)], [409, 'NOT_A_COHOST_TARGET']);
    assert.equal(r.code(await handover(cohost, cohost)), 'HOST_ONLY');
    assert.equal(r.code(await handover(speaker, cohost)), 'HOST_ONLY');

    const done = await handover(host, cohost);
    assert.equal(done.status, 200, JSON.stringify(done.json));
    assert.equal(done.json.space.host.id, cohost.id);
    assert.equal(done.json.space.host.handle, 'ho_cohost');
    const roles = Object.fromEntries(done.json.space.stage.map((m: { handle: string; role: string }) => [m.handle, m.role]));
    assert.deepEqual(roles, { ho_host: 'cohost', ho_cohost: 'host', ho_speaker: 'speaker' });
    assert.equal(await r.role(id, host), 'cohost');
    assert.equal(await r.role(id, cohost), 'host');
    assert.equal(r.code(await handover(host, cohost)), 'HOST_ONLY', 'the old host gave it away');

    const byOldHost = await r.call('POST', `/api/spaces/${id}/end`, host);
    assert.deepEqual([byOldHost.status, r.code(byOldHost)], [403, 'HOST_ONLY'], 'a co-host may not end it by default');
    const ended = await r.call('POST', `/api/spaces/${id}/end`, cohost);
    assert.equal(ended.json.space.state, 'ended', 'the new host may');
  });

  test('cohostsMayEnd: set by the host only; then a co-host ends the Space, a speaker still cannot', async () => {
    const id = await r.live(host);
    await r.onStage(id, host, cohost, 'cohost');
    await r.onStage(id, host, speaker);
    assert.equal((await r.call('GET', `/api/spaces/${id}`)).json.space.cohostsMayEnd, false);
    assert.equal(r.code(await r.call('POST', `/api/spaces/${id}/end`, cohost)), 'HOST_ONLY');
    const byCohost = await r.call('PATCH', `/api/spaces/${id}`, cohost, { cohostsMayEnd: true });
    assert.deepEqual([byCohost.status, r.code(byCohost)], [403, 'HOST_ONLY']);
    const set = await r.call('PATCH', `/api/spaces/${id}`, host, { cohostsMayEnd: true, tags: ['Q-and-A'] });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    assert.equal(set.json.space.cohostsMayEnd, true);
    assert.deepEqual(set.json.space.tags, ['q-and-a']);
    assert.equal(r.code(await r.call('POST', `/api/spaces/${id}/end`, speaker)), 'HOST_ONLY');
    const ended = await r.call('POST', `/api/spaces/${id}/end`, cohost);
    assert.equal(ended.status, 200);
    assert.equal(ended.json.space.state, 'ended');
  });
});

describe('unban and host-level blocks', () => {
  const r = rig();
  let host: User, fan: User, other: User;
  before(async () => {
    await r.open();
    host = await r.app.signUp('bl_host');
    fan = await r.app.signUp('bl_fan');
    other = await r.app.signUp('bl_other');
  });
  after(() => r.app.close());

  test('removed, then unbanned: the account joins again and is a listener; twice is BAN_NOT_FOUND', async () => {
    const id = await r.live(host);
    const unban = (subject: string, who = host) => r.call('DELETE', `/api/spaces/${id}/bans/${subject}`, who);
    assert.equal((await r.join(id, fan)).status, 200);
    assert.equal((await r.call('POST', `/api/spaces/${id}/members/${fan.id}/remove`, host)).status, 200);
    assert.equal(await r.role(id, fan), 'removed');
    assert.equal(r.code(await r.join(id, fan)), 'REMOVED_FROM_SPACE');
    assert.equal(r.code(await unban(fan.id, other)), 'MODERATOR_ONLY');
    const lifted = await unban(fan.id);
    assert.equal(lifted.status, 200, JSON.stringify(lifted.json));
    assert.equal(await r.role(id, fan), 'listener');
    assert.equal((await r.join(id, fan)).status, 200);
    const twice = await unban(fan.id);
    assert.deepEqual([twice.status, r.code(twice)], [404, 'BAN_NOT_FOUND']);

    const client = 'a-secret-client-of-an-anonymous-fan';
    const token = (await r.join(id, undefined, { client })).json.token as string;
    const verified = r.app.signer.verify<ListenerClaims>(token, r.app.clock.now());
    assert.ok(verified.ok);
    const subject = verified.claims.u;
    assert.equal((await r.call('POST', `/api/spaces/${id}/members/${subject}/remove`, host)).status, 200);
    assert.equal(r.code(await r.join(id, undefined, { client })), 'REMOVED_FROM_SPACE');
    assert.equal((await unban(subject)).status, 200);
    assert.equal((await r.join(id, undefined, { client })).status, 200, 'the anonymous listener may come back');
  });

  test('a block: out of every Space of the host (off stage, refused), those made later too; unblock restores', async () => {
    const live = await r.live(host, 'Live one');
    const scheduled = await r.live(host, 'Later one', false);
    const elsewhere = await r.live(other, 'Another host');
    await r.onStage(live, host, fan);
    const removed: string[] = [];
    r.app.plane.bus.on('member.removed', (e) => removed.push(`${e.spaceId} ${e.accountId}`));

    const blocked = await r.call('PUT', `/api/me/blocks/${fan.id}`, host);
    assert.equal(blocked.status, 204, JSON.stringify(blocked.json));
    const stage = (await r.call('GET', `/api/spaces/${live}`)).json.space.stage as { id: string }[];
    assert.ok(!stage.some((m) => m.id === fan.id), 'taken off the stage');
    for (const sp of [live, scheduled]) assert.ok(removed.includes(`${sp} ${fan.id}`), 'the edges are told');
    assert.ok(!removed.some((e) => e.startsWith(elsewhere)), "not about another host's Space");
    const later = await r.live(host, 'Made after the block');
    for (const id of [live, scheduled, later]) {
      const j = await r.join(id, fan);
      assert.deepEqual([j.status, r.code(j)], [403, 'REMOVED_FROM_SPACE'], id);
    }
    assert.equal((await r.join(elsewhere, fan)).status, 200, "another host's Spaces are open");
    assert.equal(r.code(await r.call('POST', `/api/spaces/${live}/invitations`, host, { accountId: fan.id })), 'TARGET_REMOVED');
    const list = await r.call('GET', '/api/me/blocks', host);
    assert.deepEqual(
      list.json.blocks.map((b: { handle: string }) => b.handle),
      ['bl_fan'],
    );
    assert.equal((await r.call('PUT', `/api/me/blocks/${fan.id}`, host)).status, 204, 'idempotent');

    assert.equal((await r.call('DELETE', `/api/me/blocks/${fan.id}`, host)).status, 204);
    for (const id of [live, scheduled, later]) assert.equal((await r.join(id, fan)).status, 200, id);
    assert.equal(await r.role(later, fan), 'listener');
    assert.deepEqual((await r.call('GET', '/api/me/blocks', host)).json.blocks, []);
  });

  test('refused blocks: oneself, an unknown account, lifting one that is not there', async () => {
    const self = await r.call('PUT', `/api/me/blocks/${host.id}`, host);
    assert.deepEqual([self.status, r.code(self)], [409, 'CANNOT_BLOCK_SELF']);
    assert.equal(r.code(await r.call('PUT', '/api/me/blocks/ac_AAAAAAAAAAAA', host)), 'ACCOUNT_NOT_FOUND');
    const none = await r.call('DELETE', `/api/me/blocks/${other.id}`, host);
    assert.deepEqual([none.status, r.code(none)], [404, 'BLOCK_NOT_FOUND']);
    assert.equal((await r.call('PUT', `/api/me/blocks/${other.id}`)).status, 401);
  });
});

/** An app with a host, a co-host to be, three fans (one with a display name), and a new live Space per test. */
function insightsRig() {
  const s = { r: rig(), host: undefined as unknown as User, cohost: undefined as unknown as User, fans: [] as User[], id: '' };
  before(async () => {
    await s.r.open();
    s.host = await s.r.app.signUp('au_host');
    s.cohost = await s.r.app.signUp('au_cohost');
    s.fans = await Promise.all(['au_alice', 'au_bob', 'au_carol'].map((h) => s.r.app.signUp(h)));
    await s.r.call('PATCH', '/api/me/profile', s.fans[1], { displayName: 'Robert Smith' });
  });
  beforeEach(async () => {
    s.r.app.clock.advance(60_000);
    s.id = await s.r.live(s.host);
  });
  after(() => s.r.app.close());
  return s;
}

describe('audience and audit log', () => {
  const s = insightsRig();
  test('the audience: signed-in listeners by handle, latest first, searchable, paged; anonymous as a count', async () => {
    const { r, host, cohost, fans, id } = s;
    await r.onStage(id, host, cohost, 'cohost');
    for (const fan of fans) {
      r.app.clock.advance(1000);
      assert.equal((await r.join(id, fan)).status, 200);
    }
    await r.join(id);
    await r.join(id, undefined, { client: 'anonymous-client-one' });
    assert.equal((await r.call('POST', `/api/spaces/${id}/members/${fans[0]!.id}/remove`, host)).status, 200);
    await r.app.plane.analytics.flush();

    const audience = async (query = '', who = host) => (await r.call('GET', `/api/spaces/${id}/audience${query}`, who)).json;
    const all = await audience();
    assert.deepEqual(
      all.listeners.map((l: { handle: string }) => l.handle),
      ['au_carol', 'au_bob', 'au_alice'],
    );
    assert.deepEqual([all.accounts, all.anonymous, all.nextOffset], [3, 2, null]);
    assert.deepEqual(
      all.listeners.map((l: { removed: boolean }) => l.removed),
      [false, false, true],
    );
    assert.equal(all.listeners[1].displayName, 'Robert Smith');
    assert.deepEqual(
      (await audience('?q=ROBERT')).listeners.map((l: { handle: string }) => l.handle),
      ['au_bob'],
    );
    assert.deepEqual(
      (await audience('?q=alice')).listeners.map((l: { handle: string }) => l.handle),
      ['au_alice'],
    );
    const page = await audience('?limit=2');
    assert.deepEqual([page.listeners.length, page.nextOffset], [2, 2]);
    assert.deepEqual(
      (await audience('?limit=2&offset=2', cohost)).listeners.map((l: { handle: string }) => l.handle),
      ['au_alice'],
      'co-hosts see it too',
    );
    const refused = await r.call('GET', `/api/spaces/${id}/audience`, fans[2]);
    assert.deepEqual([refused.status, r.code(refused)], [403, 'MODERATOR_ONLY']);
  });

  test('the audit log: every act, who did it to whom, newest first; moderators only', async () => {
    const { r, host, cohost, fans, id } = s;
    const [speaker, troll] = [fans[1]!, fans[2]!];
    // One act per second: entries of one millisecond come in no set order (ties broken by random ids).
    const step = () => r.app.clock.advance(1000);
    for (const who of [cohost, speaker]) {
      step();
      await r.call('POST', `/api/spaces/${id}/invitations`, host, { accountId: who.id });
      step();
      await r.call('POST', `/api/spaces/${id}/invitations/me/accept`, who);
    }
    step();
    await r.call('POST', `/api/spaces/${id}/members/${cohost.id}/cohost`, host);
    step();
    await r.call('POST', `/api/spaces/${id}/members/${speaker.id}/mute`, cohost);
    step();
    await r.call('POST', `/api/spaces/${id}/members/${troll.id}/remove`, host);
    step();
    await r.call('DELETE', `/api/spaces/${id}/bans/${troll.id}`, cohost);
    step();
    await r.call('PUT', `/api/spaces/${id}/pin`, host, { url: 'https://example.org/notes' });
    step();
    await r.call('POST', `/api/spaces/${id}/handover`, host, { accountId: cohost.id });
    step();
    await r.call('POST', `/api/spaces/${id}/end`, cohost);

    const log = await r.call('GET', `/api/spaces/${id}/audit?limit=100`, cohost);
    assert.equal(log.status, 200, JSON.stringify(log.json));
    type Entry = { action: string; actor: { handle: string }; target: { handle: string | null } | null; detail: string | null };
    const rows = (log.json.entries as Entry[]).map((e) => [e.action, e.actor.handle, e.target?.handle ?? null]);
    assert.deepEqual(rows.reverse(), [
      ['start', 'au_host', null],
      ['invite', 'au_host', 'au_cohost'],
      ['accept_invitation', 'au_cohost', null],
      ['invite', 'au_host', 'au_bob'],
      ['accept_invitation', 'au_bob', null],
      ['make_cohost', 'au_host', 'au_cohost'],
      ['mute', 'au_cohost', 'au_bob'],
      ['remove', 'au_host', 'au_carol'],
      ['unban', 'au_cohost', 'au_carol'],
      ['pin', 'au_host', null],
      ['handover', 'au_host', 'au_cohost'],
      ['end', 'au_cohost', null],
    ]);
    const page = await r.call('GET', `/api/spaces/${id}/audit?limit=2`, host);
    assert.deepEqual(
      page.json.entries.map((e: Entry) => e.action),
      ['end', 'handover'],
    );
    assert.equal(page.json.nextOffset, 2);
    assert.equal(r.code(await r.call('GET', `/api/spaces/${id}/audit`, speaker)), 'MODERATOR_ONLY');
  });
});

describe('analytics over HTTP', () => {
  const s = insightsRig();
  test('analytics: joins (not renewals), unique listeners, reactions, replay plays; moderators only', async () => {
    const { r, host, fans, id } = s;
    const emoji = r.app.config.spaces.reactionEmoji[0]!;
    const first = await r.join(id, fans[0]);
    await r.join(id, fans[0], { token: first.json.token });
    await r.join(id, fans[1]);
    await r.join(id, undefined, { client: 'anonymous-analytics-client' });
    for (const fan of fans.slice(0, 2)) {
      assert.equal((await r.call('POST', `/api/spaces/${id}/reactions`, fan, { emoji })).status, 202);
    }
    await r.call('POST', `/api/spaces/${id}/end`, host);
    r.recorded.add(id);
    r.app.clock.advance(60_000);
    assert.equal((await r.join(id, fans[2])).status, 200, 'a replay play');
    await r.app.plane.analytics.flush();

    const a = (await r.call('GET', `/api/spaces/${id}/analytics`, host)).json;
    assert.equal(a.joins, 4, 'three live joins and one replay; the renewal is not a join');
    assert.deepEqual(a.uniqueListeners, { accounts: 3, anonymous: 1 });
    assert.equal(a.reactions, 2);
    assert.equal(a.replayPlays, 1);
    assert.deepEqual(
      a.minutes.map((m: { joins: number; replayPlays: number }) => [m.joins, m.replayPlays]),
      [
        [3, 0],
        [1, 1],
      ],
    );
    assert.equal(a.minutes[0].minute, new Date(Math.floor((r.app.clock.now() - 60_000) / 60_000) * 60_000).toISOString());
    assert.equal(r.code(await r.call('GET', `/api/spaces/${id}/analytics`, fans[0])), 'MODERATOR_ONLY');
  });

  test('analytics: the waiting room and peak listeners add up over minutes (sums of counts, maxima of maxima)', async () => {
    const { r, host, id } = s;
    const row = { spaceId: id, joins: 0, replayPlays: 0, reactions: 0 };
    await r.app.plane.spaces.store.community().addStats([
      { ...row, minute: 0, queued: 10, fromLine: 6, maxWaitMs: 4000, peakListeners: 120 },
      { ...row, minute: 60_000, queued: 5, fromLine: 5, maxWaitMs: 9000, peakListeners: 80 },
    ]);
    const a = (await r.call('GET', `/api/spaces/${id}/analytics`, host)).json;
    assert.deepEqual(a.waitingRoom, { waited: 15, admitted: 11, left: 4, longestWaitMs: 9000 });
    assert.equal(a.peakListeners, 120);
  });
});
