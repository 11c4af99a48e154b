import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { ReportRecord } from '../../src/storage/community-store.ts';
import type { SpaceRecord, Store } from '../../src/storage/store.ts';
import { onBothEngines, type OpenStore } from './engines.ts';
import { spaceRecord, T0 } from './records.ts';

/**
 * The community tables' SQL (`SqlCommunityStore`, the search in `space-query.ts`, host blocks in the
 * ban queries) on every backend: SQLite always, PostgreSQL when AMPHI_TEST_PG=1. A fresh database
 * per test.
 */

const MINUTE = 60_000;
const BOUNDED = { timeout: 30_000 };
let seq = 0;
const uid = (prefix: string) => `${prefix}_${++seq}_${randomUUID().slice(0, 8)}`;

function suite(name: string, open: OpenStore): void {
  describe(name, () => {
    let store: Store;
    let closing: (() => Promise<void>) | undefined;
    beforeEach(async () => {
      const h = await open();
      store = h.store;
      closing = () => h.close();
    }, BOUNDED);
    afterEach(async () => {
      const c = closing;
      closing = undefined;
      await c?.();
    }, BOUNDED);

    const account = async (handle: string) => {
      const id = uid('ac');
      assert.ok(await store.createAccount({ id, handle, createdAt: T0, passwordHash: 'x' }));
      return id;
    };
    const space = async (hostId: string, over: Partial<SpaceRecord> = {}) => {
      const id = uid('sp');
      await store.createSpace(spaceRecord(id, hostId, over));
      return id;
    };
    const ctx = { store: () => store, account, space };

    searchTests(ctx);
    statsTests(ctx);
    reportTests(ctx);
    banTests(ctx);
  });
}

interface Ctx {
  readonly store: () => Store;
  readonly account: (handle: string) => Promise<string>;
  readonly space: (hostId: string, over?: Partial<SpaceRecord>) => Promise<string>;
}

function searchTests({ store, account, space }: Ctx): void {
  describe('search', () => {
    const ids = async (q: { text?: string; tag?: string; hostId?: string; offset?: number; limit?: number }) =>
      (await store().listSpaces({ limit: 50, offset: 0, ...q })).map((s) => s.id).sort();

    test('words in the title are case-insensitive; % and _ are taken literally', async () => {
      const host = await account('plain_host');
      const percent = await space(host, { title: 'We are 100% Jazz' });
      const digits = await space(host, { title: 'We are 1000 jazz' });
      const under = await space(host, { title: 'snake_case talk' });
      const caseX = await space(host, { title: 'snakeXcase talk' });
      assert.deepEqual(await ids({ text: 'JAZZ' }), [percent, digits].sort());
      assert.deepEqual(await ids({ text: '100%' }), [percent]);
      assert.deepEqual(await ids({ text: 'e_c' }), [under]);
      assert.deepEqual(await ids({ text: '%' }), [percent], 'a lone % is a character, not "anything"');
      assert.deepEqual(await ids({ text: 'snake talk' }), [under, caseX].sort(), 'every word, anywhere');
      assert.deepEqual(await ids({ text: 'snake jazz' }), [], 'each word must match');
      assert.deepEqual(await ids({ text: 'xcase' }), [caseX]);
    });

    test("the host's handle and display name match, case-insensitively", async () => {
      const dj = await account('DJ_Nova');
      const other = await account('someone');
      await store().community().updateProfile(other, { displayName: 'Radio Mbali' });
      const a = await space(dj, { title: 'Morning set' });
      const b = await space(other, { title: 'Evening set' });
      assert.deepEqual(await ids({ text: 'nova' }), [a]);
      assert.deepEqual(await ids({ text: 'dj_n' }), [a]);
      assert.deepEqual(await ids({ text: 'MBALI' }), [b]);
      assert.deepEqual(await ids({ text: 'set' }), [a, b].sort());
      assert.deepEqual(await ids({ text: 'set', hostId: other }), [b]);
    });

    test('a tag matches whole topics only, and paging goes on', async () => {
      const host = await account('tagger');
      const js = await space(host, { tags: ['js', 'web'] });
      const jsx = await space(host, { tags: ['jsx'] });
      assert.deepEqual(await ids({ tag: 'js' }), [js]);
      assert.deepEqual(await ids({ tag: 'JSX' }), [jsx]);
      assert.deepEqual(await ids({ tag: 'web' }), [js]);
      assert.deepEqual(await ids({ tag: 'j' }), []);
      const first = await ids({ limit: 1, hostId: host });
      const second = await ids({ limit: 1, offset: 1, hostId: host });
      assert.deepEqual([...first, ...second].sort(), [js, jsx].sort());
      await store().updateSpace(jsx, { tags: ['js'] });
      assert.deepEqual(await ids({ tag: 'js' }), [js, jsx].sort(), 'tags changed by updateSpace are searchable');
    });
  });
}

function statsTests({ store, account, space }: Ctx): void {
  describe('analytics and audience', () => {
    test('addStats: counts add up per minute, maxima take the larger', async () => {
      const spaceId = await space(await account('stats_host'));
      const row = { spaceId, minute: T0, joins: 3, queued: 2, fromLine: 1, maxWaitMs: 900, replayPlays: 1, reactions: 5 };
      await store()
        .community()
        .addStats([{ ...row, peakListeners: 40 }]);
      await store()
        .community()
        .addStats([
          { ...row, joins: 4, maxWaitMs: 300, peakListeners: 70 },
          { ...row, minute: T0 + MINUTE, joins: 1, peakListeners: 2 },
        ]);
      const [m1, m2, ...rest] = await store().community().listStats(spaceId);
      assert.deepEqual(rest, []);
      assert.deepEqual(m1, {
        spaceId,
        minute: T0,
        joins: 7,
        queued: 4,
        fromLine: 2,
        maxWaitMs: 900,
        replayPlays: 2,
        reactions: 10,
        peakListeners: 70,
      });
      assert.equal(m2?.minute, T0 + MINUTE);
      assert.equal(m2?.joins, 1);
    });

    test('recordAudience keeps the first time and the latest; countAudience splits anonymous from accounts', async () => {
      const c = () => store().community();
      const spaceId = await space(await account('aud_host'));
      const fan = await account('aud_fan');
      const fan2 = await account('Aud_Other');
      await c().updateProfile(fan2, { displayName: 'Zed Quux' });
      await c().recordAudience([
        { spaceId, subject: fan, atMs: T0 + 1000 },
        { spaceId, subject: 'an_one', atMs: T0 },
      ]);
      await c().recordAudience([{ spaceId, subject: fan, atMs: T0 + 5000 }]);
      await c().recordAudience([{ spaceId, subject: fan, atMs: T0 + 3000 }]);
      await c().recordAudience([
        { spaceId, subject: fan2, atMs: T0 + 4000 },
        { spaceId, subject: 'an_two', atMs: T0 },
        { spaceId, subject: 'an_one', atMs: T0 + 9 },
      ]);
      assert.deepEqual(await c().countAudience(spaceId), { accounts: 2, anonymous: 2 });
      const members = await c().listAudience(spaceId, { limit: 10, offset: 0 });
      assert.deepEqual(
        members.map((m) => [m.handle, m.firstAt - T0, m.lastAt - T0]),
        [
          ['aud_fan', 1000, 5000],
          ['Aud_Other', 4000, 4000],
        ],
        'signed-in listeners only, most recently seen first; a late note never moves lastAt back',
      );
      assert.deepEqual(
        (await c().listAudience(spaceId, { limit: 10, offset: 0, q: 'QUUX' })).map((m) => m.handle),
        ['Aud_Other'],
      );
      assert.deepEqual(
        (await c().listAudience(spaceId, { limit: 10, offset: 0, q: 'd_f' })).map((m) => m.handle),
        ['aud_fan'],
      );
      assert.deepEqual(await c().listAudience(spaceId, { limit: 10, offset: 0, q: '%' }), [], '% is literal');
      assert.deepEqual(
        (await c().listAudience(spaceId, { limit: 1, offset: 1 })).map((m) => m.handle),
        ['Aud_Other'],
      );
      assert.deepEqual(await c().countAudience(await space(fan)), { accounts: 0, anonymous: 0 });
    });
  });
}

function reportTests({ store, account, space }: Ctx): void {
  describe('reports', () => {
    const report = (over: Partial<ReportRecord> & Pick<ReportRecord, 'reporterId' | 'subjectId'>): ReportRecord => ({
      id: uid('rp'),
      kind: 'user',
      spaceId: null,
      reason: 'spam',
      details: '',
      createdAt: T0,
      status: 'open',
      decision: null,
      statement: null,
      decidedBy: null,
      decidedAt: null,
      ...over,
    });

    test('decideReport decides once; listStatements shows decisions other than dismiss; the queue splits', async () => {
      const c = () => store().community();
      const [reporter, subject, admin] = [await account('rep'), await account('subj'), await account('adm')];
      const spaceId = await space(subject);
      const a = report({ reporterId: reporter, subjectId: subject, kind: 'space', spaceId });
      const b = report({ reporterId: reporter, subjectId: subject, createdAt: T0 + 1 });
      const open = report({ reporterId: reporter, subjectId: subject, createdAt: T0 + 2 });
      for (const r of [a, b, open]) await c().createReport(r);
      const d = (decision: 'end_space' | 'dismiss', at: number) => ({
        decision,
        statement: `because ${decision}`,
        decidedBy: admin,
        decidedAt: at,
      });
      assert.equal(await c().decideReport(a.id, d('end_space', T0 + 10)), true);
      assert.equal(await c().decideReport(a.id, d('dismiss', T0 + 20)), false, 'the first decision wins');
      assert.equal(await c().decideReport(b.id, d('dismiss', T0 + 30)), true);
      const got = await c().getReport(a.id);
      assert.equal(got?.status, 'decided');
      assert.equal(got?.decision, 'end_space');
      assert.equal(got?.statement, 'because end_space');
      assert.equal(got?.decidedAt, T0 + 10);
      assert.equal(await c().decideReport(uid('rp'), d('dismiss', T0)), false, 'no such report');

      const statements = await c().listStatements(subject, { limit: 10, offset: 0 });
      assert.deepEqual(
        statements.map((r) => r.id),
        [a.id],
        'not the dismissed one, not the open one',
      );
      assert.deepEqual(await c().listStatements(reporter, { limit: 10, offset: 0 }), []);
      assert.deepEqual(
        (await c().listReports({ limit: 10, offset: 0, status: 'open' })).map((r) => r.id),
        [open.id],
      );
      assert.deepEqual(
        (await c().listReports({ limit: 10, offset: 0, status: 'decided' })).map((r) => r.id),
        [b.id, a.id],
        'decided: newest decision first',
      );
      assert.deepEqual(
        (await c().listReportsBy(reporter, { limit: 10, offset: 0 })).map((r) => r.id),
        [open.id, b.id, a.id],
      );
    });
  });
}

function banTests({ store, account, space }: Ctx): void {
  describe('host blocks in the ban queries', () => {
    test("a system account (the demo's host) has a profile too: the demo Space's host link leads somewhere", async () => {
      const id = uid('ac');
      assert.ok(await store().createAccount({ id, handle: 'Demo_Host', createdAt: T0, passwordHash: 'x' }, 'demo'));
      assert.equal((await store().community().findProfile('demo_host'))?.accountId, id);
    });
    test('recordAudience takes thousands of listeners in one call, the same one twice included', async () => {
      const host = await account('aud_host');
      const id = await space(host);
      const rows = Array.from({ length: 1200 }, (_, i) => ({
        spaceId: id,
        subject: `an_${String(i).padStart(12, '0')}`,
        atMs: T0 + i,
      }));
      rows.push(
        { spaceId: id, subject: 'an_000000000007', atMs: T0 - 5 },
        { spaceId: id, subject: 'an_000000000007', atMs: T0 + 9000 },
      );
      await store().community().recordAudience(rows);
      assert.deepEqual(await store().community().countAudience(id), { accounts: 0, anonymous: 1200 });
      await store()
        .community()
        .recordAudience([{ spaceId: id, subject: host, atMs: T0 + 1 }]);
      const [me] = await store().community().listAudience(id, { limit: 5, offset: 0 });
      assert.equal(me?.accountId, host);
    });
    test('recordAudience writes a batch whole or not at all (the analytics keep a failed batch for the next flush)', async () => {
      const host = await account('aud_whole');
      const id = await space(host);
      // 700 rows: two statements; the second refers to a Space that does not exist.
      const rows = Array.from({ length: 700 }, (_, i) => ({
        spaceId: i < 600 ? id : 'sp_notthereatall',
        subject: `an_${String(i).padStart(12, '0')}`,
        atMs: T0 + i,
      }));
      await assert.rejects(store().community().recordAudience(rows));
      assert.deepEqual(await store().community().countAudience(id), { accounts: 0, anonymous: 0 }, 'nothing of the batch kept');
      await store().community().recordAudience(rows.slice(0, 600));
      assert.deepEqual(await store().community().countAudience(id), { accounts: 0, anonymous: 600 });
    });
    test('an insert that finds its row there leaves the transaction usable (PostgreSQL aborts on a caught error)', async () => {
      const host = await account('tx_host');
      const guest = await account('tx_guest');
      const id = await space(host);
      await store().addInvitation(id, guest, host, T0);
      const wrote = await store().inSpaceTransaction(id, async (tx) => {
        assert.equal(await tx.addInvitation(id, guest, host, T0 + 1), false, 'already invited');
        assert.equal(await tx.community().follow(guest, host, T0), true);
        assert.equal(await tx.community().follow(guest, host, T0), false, 'already following');
        await tx
          .community()
          .addAudit({ id: 'au_tx', spaceId: id, actorId: host, action: 'invite', targetId: guest, detail: null, at: T0 });
        return true;
      });
      assert.equal(wrote, true);
      assert.deepEqual(
        (await store().community().listAudit({ spaceId: id, limit: 5, offset: 0 })).map((e) => e.action),
        ['invite'],
        'the later writes committed',
      );
    });

    test('isBanned and listBanned include the host’s blocks; listActiveBans leaves out ended Spaces', async () => {
      const host = await account('blk_host');
      const otherHost = await account('blk_other');
      const [blocked, banned] = [await account('blk_troll'), await account('blk_banned')];
      const live = await space(host, { state: 'live', startedAt: T0 });
      const ended = await space(host, { state: 'ended', endedAt: T0 });
      const elsewhere = await space(otherHost);
      await store().ban(live, banned, host, T0);
      assert.equal(await store().community().block(host, blocked, T0), true);
      assert.equal(
        await store()
          .community()
          .block(host, blocked, T0 + 1),
        false,
        'once',
      );
      const later = await space(host);

      assert.equal(await store().isBanned(live, blocked), true);
      assert.equal(await store().isBanned(later, blocked), true, 'Spaces made after the block too');
      assert.equal(await store().isBanned(elsewhere, blocked), false, "not another host's");
      assert.equal(await store().isBanned(later, banned), false, 'a ban is one Space');
      assert.deepEqual(await store().listBanned(live), [banned, blocked].sort());
      assert.deepEqual(await store().listBanned(later), [blocked]);
      assert.deepEqual(await store().listBanned(elsewhere), []);
      const active = await store().listActiveBans();
      const mine = active.filter((b) => [live, ended, later, elsewhere].includes(b.spaceId));
      assert.deepEqual(
        mine.map((b) => `${b.spaceId} ${b.subject}`).sort(),
        [`${live} ${banned}`, `${live} ${blocked}`, `${later} ${blocked}`].sort(),
      );
      assert.deepEqual(
        (await store().community().listBlocks(host)).map((b) => b.handle),
        ['blk_troll'],
      );

      assert.equal(await store().community().unblock(host, blocked), true);
      assert.equal(await store().community().unblock(host, blocked), false);
      assert.equal(await store().isBanned(later, blocked), false);
      assert.deepEqual(await store().listBanned(live), [banned]);
      assert.equal(await store().community().unban(live, banned), true);
      assert.equal(await store().community().unban(live, banned), false);
      assert.equal(await store().isBanned(live, banned), false);
    });

    test('follows: reminders on the host’s scheduled Spaces, and on a new one for every follower', async () => {
      const c = () => store().community();
      const [host, fan] = [await account('f_host'), await account('f_fan')];
      const scheduled = await space(host);
      const live = await space(host, { state: 'live', startedAt: T0 });
      assert.equal(await c().follow(fan, host, T0), true);
      assert.equal(await c().follow(fan, host, T0), false);
      assert.equal(await c().isFollowing(fan, host), true);
      assert.equal(await c().isFollowing(host, fan), false);
      assert.equal(await c().countFollowers(host), 1);
      assert.equal(await c().remindOfScheduled(fan, host, T0), 1);
      assert.equal(await store().hasRelation('reminders', scheduled, fan), true);
      assert.equal(await store().hasRelation('reminders', live, fan), false, 'only scheduled ones');
      assert.equal(await c().remindOfScheduled(fan, host, T0), 0, 'no duplicate');
      const next = await space(host);
      assert.equal(await c().remindFollowers(next, host, T0), 1);
      assert.equal(await store().hasRelation('reminders', next, fan), true);
      assert.equal(await c().unfollow(fan, host), true);
      assert.equal(await c().countFollowers(host), 0);
    });
  });
}

onBothEngines('community storage', suite);
