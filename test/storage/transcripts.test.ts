import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { pino } from 'pino';
import { TranscriptIndex } from '../../src/control/transcripts.ts';
import type { SpaceRecord, Store } from '../../src/storage/store.ts';
import { onBothEngines, type OpenStore } from './engines.ts';
import { spaceRecord, T0 } from './records.ts';

/**
 * Transcript lines and their search (`transcript-store.ts`, migration 8) on every backend: SQLite
 * always, PostgreSQL when AMPHI_TEST_PG=1 (AMPHI_TEST_DATABASE_URL). A fresh database per test.
 */

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
    /** An ended Space (a public replay unless told otherwise) with these lines, one a second. */
    const replay = async (hostId: string, lines: string[], over: Partial<SpaceRecord> = {}) => {
      const id = uid('sp');
      await store.createSpace(spaceRecord(id, hostId, { state: 'ended', startedAt: T0, endedAt: T0 + seq * 1000, ...over }));
      await store.community().saveTranscript(
        id,
        lines.map((text, i) => ({ startMs: i * 1000, endMs: i * 1000 + 900, text })),
      );
      return id;
    };
    const search = (phrase: string, o: { hostId?: string; limit?: number; offset?: number } = {}) =>
      store.community().searchTranscripts({ phrase, hostId: o.hostId, limit: o.limit ?? 20, offset: o.offset ?? 0 });

    test('a phrase is found anywhere in a line, case-insensitively, with its Space, host and time', async () => {
      const host = await account('tr_host');
      const id = await replay(host, ['hello there', 'The Quick Brown fox', 'goodbye'], { title: 'Foxes' });
      assert.deepEqual(await search('quick brown'), [
        { spaceId: id, title: 'Foxes', hostId: host, hostHandle: 'tr_host', text: 'The Quick Brown fox', startMs: 1000 },
      ]);
      assert.equal((await search('QUICK')).length, 1);
      assert.deepEqual(await search('slow'), []);
    });

    test('a viewer does not find the replays that refuse them: removed from the Space, or blocked by its host', async () => {
      const host = await account('tr_barring');
      const [viewer, removed, blocked] = [await account('tr_viewer'), await account('tr_removed'), await account('tr_blocked')];
      const id = await replay(host, ['a barred phrase']);
      await store.ban(id, removed, host, T0);
      assert.ok(await store.community().block(host, blocked, T0));
      const seenBy = async (viewerId?: string) =>
        (await store.community().searchTranscripts({ phrase: 'barred phrase', limit: 20, offset: 0, viewerId })).map(
          (h) => h.spaceId,
        );
      assert.deepEqual(await seenBy(), [id]);
      assert.deepEqual(await seenBy(viewer), [id]);
      assert.deepEqual(await seenBy(removed), []);
      assert.deepEqual(await seenBy(blocked), []);
    });

    test('% and _ are plain characters', async () => {
      const host = await account('tr_pct');
      await replay(host, ['fifty % off', 'fifty percent off', 'snake_case names', 'snakeXcase names']);
      assert.deepEqual(
        (await search('%')).map((h) => h.text),
        ['fifty % off'],
      );
      assert.deepEqual(
        (await search('e_c')).map((h) => h.text),
        ['snake_case names'],
      );
      assert.deepEqual(await search('fifty_'), []);
    });

    test('pages: in order (most recently ended Space first, its lines in order), limit and offset', async () => {
      const host = await account('tr_pages');
      const older = await replay(host, ['word one', 'word two']);
      const newer = await replay(host, ['word three']);
      const all = await search('word');
      assert.deepEqual(
        all.map((h) => [h.spaceId, h.text]),
        [
          [newer, 'word three'],
          [older, 'word one'],
          [older, 'word two'],
        ],
      );
      assert.deepEqual(await search('word', { limit: 2 }), all.slice(0, 2));
      assert.deepEqual(await search('word', { limit: 2, offset: 2 }), all.slice(2));
    });

    test("public search finds neither a members-only Space nor a live one nor a deleted replay; mine finds all of one's own ended ones", async () => {
      const host = await account('tr_own');
      const other = await account('tr_other');
      const members = await replay(host, ['secret plans'], { allowAnonymous: false });
      await replay(host, ['secret live'], { state: 'live', endedAt: null });
      const deleted = await replay(host, ['secret deleted']);
      assert.equal((await search('secret deleted')).length, 1, 'found until the host deletes the replay');
      await store.updateSpace(deleted, { replayDeletedAt: T0 + 5000 });
      const open = await replay(host, ['secret open']);
      await replay(other, ['secret of another']);
      assert.deepEqual((await search('secret')).map((h) => h.text).sort(), ['secret of another', 'secret open']);
      assert.deepEqual((await search('secret', { hostId: host })).map((h) => h.spaceId).sort(), [members, open].sort());
      assert.deepEqual(await search('plans', { hostId: other }), [], 'not in the other host’s own');
    });

    test('endedAfter: only Spaces that ended since (retention deleted the older recordings)', async () => {
      const host = await account('tr_retention');
      const old = await replay(host, ['expired words'], { endedAt: T0 + 1000 });
      const recent = await replay(host, ['expired words too'], { endedAt: T0 + 5000 });
      const since = (endedAfter: number) =>
        store
          .community()
          .searchTranscripts({ phrase: 'expired', limit: 20, offset: 0, endedAfter })
          .then((hits) => hits.map((h) => h.spaceId));
      assert.deepEqual(await since(T0 + 1000), [recent, old], 'ended at the bound: still found');
      assert.deepEqual(await since(T0 + 1001), [recent]);
      assert.deepEqual(await since(T0 + 5001), []);
    });

    test('TranscriptIndex.forget removes the lines of those Spaces, and only theirs', async () => {
      const host = await account('tr_forget');
      const gone = await replay(host, ['forgotten line', 'forgotten too']);
      const kept = await replay(host, ['forgotten not']);
      await new TranscriptIndex(store, pino({ level: 'silent' })).forget([gone]);
      assert.deepEqual(
        (await search('forgotten')).map((h) => h.spaceId),
        [kept],
      );
    });

    test('saving again replaces the lines (more than one INSERT takes, too)', async () => {
      const host = await account('tr_again');
      const id = await replay(host, ['first take']);
      await store.community().saveTranscript(id, [{ startMs: 5, endMs: 10, text: 'second take' }]);
      assert.deepEqual(
        (await search('take')).map((h) => [h.text, h.startMs]),
        [['second take', 5]],
      );
      const many = Array.from({ length: 1203 }, (_, i) => ({ startMs: i * 10, endMs: i * 10 + 5, text: `line ${i}` }));
      await store.community().saveTranscript(id, many);
      assert.equal((await search('line', { limit: 5000 })).length, 1203, 'more lines than one INSERT takes');
    });
  });
}

onBothEngines('transcript storage', suite);
