import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { App } from '../../../src/lib/http-app.ts';
import { RecordingDownloads } from '../../../src/origin/download.ts';
import { OriginPlane } from '../../../src/origin/plane.ts';
import { FileMediaStorage } from '../../../src/origin/storage.ts';
import { saveTranscript, TRANSCRIPT_FILE } from '../../../src/origin/transcript.ts';
import { TranscriptIndex } from '../../../src/control/transcripts.ts';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';
import { withRecordingFiles } from '../../helpers/recording-app.ts';

const log = pino({ level: 'silent' });

/** Three caption lines with their words, as the live captions hand them over (program timeline, ms). */
const LINES = [
  { startMs: 1020, endMs: 3480, text: 'the quick brown fox', words: words(1020, 'the quick brown fox') },
  { startMs: 65_400, endMs: 68_010, text: 'jumps over the lazy dog', words: words(65_400, 'jumps over the lazy dog') },
  { startMs: 3_725_000, endMs: 3_727_500, text: 'an hour later', words: words(3_725_000, 'an hour later') },
];

function words(startMs: number, text: string) {
  return text.split(' ').map((word, i) => ({ word, startMs: startMs + i * 400, endMs: startMs + i * 400 + 350 }));
}

/** `hh:mm:ss.ttt` back to ms. */
const ms = (t: string) => {
  const [h, m, s] = t.split(':').map(Number) as [number, number, number];
  return Math.round(((h * 60 + m) * 60 + s) * 1000);
};

/** The cues of a WebVTT file: times and text. */
function parseVtt(vtt: string): { startMs: number; endMs: number; text: string }[] {
  assert.ok(vtt.startsWith('WEBVTT\n'), 'a WebVTT file');
  return vtt
    .split('\n\n')
    .slice(1)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const [times, ...text] = block.trim().split('\n');
      const match = /^(\d\d:\d\d:\d\d\.\d\d\d) --> (\d\d:\d\d:\d\d\.\d\d\d)$/.exec(times!);
      assert.ok(match, `a cue timing line: ${times}`);
      return { startMs: ms(match[1]!), endMs: ms(match[2]!), text: text.join('\n') };
    });
}

describe('a replay transcript over HTTP', () => {
  let test_: TestApp;
  let app: App;
  let dir: string;
  let storage: FileMediaStorage;
  let host: { id: string; token: string };

  before(async () => {
    test_ = await makeTestApp();
    dir = mkdtempSync(join(tmpdir(), 'amphi-transcript-'));
    storage = new FileMediaStorage(dir);
    app = await withRecordingFiles(test_, new RecordingDownloads({ storage, log }));
    // As the roles wire it: a deleted replay's files go (on this node or, through the bus, another).
    const origin = new OriginPlane({
      config: test_.config.origin,
      storage,
      clock: test_.clock,
      log,
      programBitrateBps: 64_000,
      preSkip: 312,
    });
    test_.plane.bus.on('recording.deleted', ({ spaceId }) => origin.deleteRecording(spaceId));
    host = await test_.signUp('tr_host');
  });
  after(async () => {
    await app.close();
    await test_.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An ended Space with a recording and, unless `captioned` is false, a transcript. */
  const replay = async (title: string, o: { anonymous?: boolean; captioned?: boolean } = {}) => {
    const id = (
      await test_.call('POST', '/api/spaces', { token: host.token, body: { title, allowAnonymous: o.anonymous ?? true } })
    ).json.space.id as string;
    await test_.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    test_.clock.advance(60_000);
    await test_.call('POST', `/api/spaces/${id}/end`, { token: host.token });
    storage.write(id, 'recording.json', JSON.stringify({ version: 1, ended: true, segments: [] }));
    if (o.captioned ?? true) assert.ok(saveTranscript(storage, log, id, LINES));
    return id;
  };
  const get = (url: string, token?: string) =>
    app.inject({ method: 'GET', url, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

  test('JSON: automatic, every line with its words, times in ms on the replay timeline', async () => {
    const id = await replay('Captioned');
    const res = await get(`/api/spaces/${id}/transcript`);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['cache-control']), /private/);
    assert.deepEqual(res.json(), { automatic: true, lines: LINES });
  });

  test('WebVTT: one cue per line, parsed back to the JSON times (monotonic) and texts', async () => {
    const id = await replay('Captioned VTT');
    const res = await get(`/api/spaces/${id}/transcript.vtt`);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/vtt/);
    const cues = parseVtt(res.body);
    const json = (await get(`/api/spaces/${id}/transcript`)).json<{
      lines: { startMs: number; endMs: number; text: string }[];
    }>();
    assert.deepEqual(
      cues,
      json.lines.map(({ startMs, endMs, text }) => ({ startMs, endMs, text })),
    );
    for (let i = 0; i < cues.length; i++) {
      assert.ok(cues[i]!.startMs < cues[i]!.endMs, `cue ${i} ends after it starts`);
      if (i > 0) assert.ok(cues[i]!.startMs >= cues[i - 1]!.startMs, `cue ${i} starts after cue ${i - 1}`);
    }
  });

  test('plain text: one line per caption line after its [mm:ss] start (minutes go on past 59)', async () => {
    const id = await replay('Captioned text');
    const res = await get(`/api/spaces/${id}/transcript.txt`);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.equal(res.body, '[00:01] the quick brown fox\n[01:05] jumps over the lazy dog\n[62:05] an hour later\n');
  });

  test('a replay never captioned: no lines for the page that asks; the downloads are 404 TRANSCRIPT_NOT_FOUND', async () => {
    const id = await replay('Never captioned', { captioned: false });
    const asked = await get(`/api/spaces/${id}/transcript`);
    assert.equal(asked.statusCode, 200);
    assert.deepEqual(asked.json(), { automatic: true, lines: [] });
    for (const path of ['transcript.vtt', 'transcript.txt']) {
      const res = await get(`/api/spaces/${id}/${path}`);
      assert.deepEqual([res.statusCode, res.json().error.code], [404, 'TRANSCRIPT_NOT_FOUND'], path);
    }
  });

  test('who may not hear the replay may not read it: 401 signed out where sign-in is required, 403 when removed', async () => {
    const members = await replay('Members only', { anonymous: false });
    for (const path of ['transcript', 'transcript.vtt', 'transcript.txt']) {
      const res = await get(`/api/spaces/${members}/${path}`);
      assert.deepEqual([res.statusCode, res.json().error.code], [401, 'AUTH_REQUIRED'], path);
      assert.equal((await get(`/api/spaces/${members}/${path}`, host.token)).statusCode, 200, `${path}, signed in`);
    }
    const troll = await test_.signUp('tr_troll');
    const id = (await test_.call('POST', '/api/spaces', { token: host.token, body: { title: 'With a troll' } })).json.space
      .id as string;
    await test_.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    await test_.call('POST', `/api/spaces/${id}/join`, { token: troll.token });
    await test_.call('POST', `/api/spaces/${id}/members/${troll.id}/remove`, { token: host.token });
    await test_.call('POST', `/api/spaces/${id}/end`, { token: host.token });
    storage.write(id, 'recording.json', '{}');
    saveTranscript(storage, log, id, LINES);
    for (const path of ['transcript', 'transcript.vtt', 'transcript.txt']) {
      const res = await get(`/api/spaces/${id}/${path}`, troll.token);
      assert.deepEqual([res.statusCode, res.json().error.code], [403, 'REMOVED_FROM_SPACE'], path);
      assert.equal((await get(`/api/spaces/${id}/${path}`)).statusCode, 200, `${path}, anyone else`);
    }
  });

  test('the host deletes the replay: the transcript goes with it (410, and its file is gone)', async () => {
    const id = await replay('Deleted');
    assert.equal((await get(`/api/spaces/${id}/transcript`)).statusCode, 200);
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/spaces/${id}/recording`,
      headers: { authorization: `Bearer ${host.token}` },
    });
    assert.ok(del.statusCode < 300, `deleted: ${del.statusCode} ${del.body}`);
    for (const path of ['transcript', 'transcript.vtt', 'transcript.txt']) {
      const res = await get(`/api/spaces/${id}/${path}`);
      assert.deepEqual([res.statusCode, res.json().error.code], [410, 'RECORDING_DELETED'], path);
    }
    assert.equal(storage.read(id, TRANSCRIPT_FILE), undefined, 'transcript.json removed');
  });
});

describe("searching replays' transcripts over HTTP", () => {
  let app: TestApp;
  let index: TranscriptIndex;
  let host: { id: string; token: string };
  let fan: { id: string; token: string };
  before(async () => {
    app = await makeTestApp();
    index = new TranscriptIndex(app.store, log);
    host = await app.signUp('ts_host');
    fan = await app.signUp('ts_fan');
  });
  after(() => app.close());

  /** An ended Space of `host` whose transcript (these lines, one every 2 s) is indexed. */
  const replay = async (title: string, lines: string[], anonymous = true) => {
    const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title, allowAnonymous: anonymous } })).json
      .space.id as string;
    await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    app.clock.advance(60_000);
    await app.call('POST', `/api/spaces/${id}/end`, { token: host.token });
    await index.index(
      id,
      lines.map((text, i) => ({ startMs: i * 2000, endMs: i * 2000 + 1500, text })),
    );
    return id;
  };
  const search = (query: string, token?: string) =>
    app.call('GET', `/api/transcripts/search?${query}`, token === undefined ? {} : { token });

  test('a phrase in a public replay: its Space, host, line and where it starts; case-insensitive, % and _ literal', async () => {
    const id = await replay('Pricing', ['welcome everyone', 'Prices go up 50% tomorrow', 'see you']);
    const res = await search(`q=${encodeURIComponent('50% TOMORROW')}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {
      results: [
        {
          spaceId: id,
          title: 'Pricing',
          host: { id: host.id, handle: 'ts_host' },
          text: 'Prices go up 50% tomorrow',
          startMs: 2000,
        },
      ],
      nextOffset: null,
    });
    assert.deepEqual((await search(`q=${encodeURIComponent('5_%')}`)).json.results, [], '_ is not a wildcard');
    assert.equal((await search('q=%20%20')).status, 400, 'only spaces');
    assert.equal((await search('')).status, 400, 'no phrase');
  });

  test('pages of 20, then nextOffset', async () => {
    await replay(
      'Counting',
      Array.from({ length: 25 }, (_, i) => `counting sheep ${i}`),
    );
    const first = await search('q=counting%20sheep');
    assert.equal(first.json.results.length, 20);
    assert.equal(first.json.nextOffset, 20);
    const second = await search('q=counting%20sheep&offset=20');
    assert.deepEqual(
      second.json.results.map((r: { startMs: number }) => r.startMs),
      [20, 21, 22, 23, 24].map((i) => i * 2000),
    );
    assert.equal(second.json.nextOffset, null);
  });

  test('a members-only replay: not found by others, found by its host with mine=true (which needs a session)', async () => {
    const id = await replay('Members', ['the members only secret'], false);
    assert.deepEqual((await search('q=members%20only%20secret')).json.results, []);
    assert.deepEqual((await search('q=members%20only%20secret', fan.token)).json.results, []);
    assert.deepEqual((await search('q=members%20only%20secret&mine=true', fan.token)).json.results, [], "not the fan's own");
    const mine = await search('q=members%20only%20secret&mine=true', host.token);
    assert.deepEqual(
      mine.json.results.map((r: { spaceId: string }) => r.spaceId),
      [id],
    );
    const signedOut = await search('q=secret&mine=true');
    assert.deepEqual([signedOut.status, signedOut.json.error.code], [401, 'AUTH_REQUIRED']);
  });

  test("who the replay refuses does not find its lines: removed from the Space, or blocked by its host; each viewer's results private", async () => {
    const other = await app.signUp('ts_other');
    const removed = await app.signUp('ts_removed');
    const blocked = await app.signUp('ts_blocked');
    const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Barred' } })).json.space.id as string;
    await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    await app.call('POST', `/api/spaces/${id}/join`, { token: removed.token, body: {} });
    const removal = await app.call('POST', `/api/spaces/${id}/members/${removed.id}/remove`, { token: host.token });
    assert.equal(removal.status, 200, JSON.stringify(removal.json));
    await app.call('POST', `/api/spaces/${id}/end`, { token: host.token });
    await index.index(id, [{ startMs: 0, endMs: 1500, text: 'a line for the welcome only' }]);
    assert.equal((await app.call('PUT', `/api/me/blocks/${blocked.id}`, { token: host.token })).status, 204);
    const found = (token?: string) =>
      search('q=welcome%20only', token).then((r) => r.json.results.map((h: { spaceId: string }) => h.spaceId));
    assert.deepEqual(await found(), [id], 'signed out: a public replay');
    assert.deepEqual(await found(other.token), [id], 'another listener');
    assert.deepEqual(await found(removed.token), [], 'removed from it');
    assert.deepEqual(await found(blocked.token), [], 'blocked by its host');
    const signedIn = await search('q=welcome%20only', other.token);
    assert.equal(signedIn.headers['cache-control'], 'private, no-store', "a viewer's results: never a shared cache's");
    assert.equal((await search('q=welcome%20only')).headers['cache-control'], 'public, max-age=30');
  });

  test('a deleted replay is no longer found: its lines are deleted', async () => {
    const id = await replay('Deleted', ['a phrase about to vanish']);
    assert.equal((await search('q=about%20to%20vanish')).json.results.length, 1);
    assert.equal((await app.call('DELETE', `/api/spaces/${id}/recording`, { token: host.token })).status < 300, true);
    assert.deepEqual((await search('q=about%20to%20vanish')).json.results, []);
    assert.deepEqual((await search('q=about%20to%20vanish&mine=true', host.token)).json.results, []);
    await app.store.updateSpace(id, { replayDeletedAt: null });
    assert.deepEqual((await search('q=about%20to%20vanish')).json.results, [], 'its lines were deleted, not only hidden');
  });
});

describe('transcript search past retention (origin.retentionDays)', () => {
  test('a Space that ended longer ago than retention is not found, even should its lines linger', async () => {
    const app = await makeTestApp({ origin: { retentionDays: 1 } });
    try {
      const host = await app.signUp('tr_retained');
      const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Old news' } })).json.space
        .id as string;
      await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
      await app.call('POST', `/api/spaces/${id}/end`, { token: host.token });
      await new TranscriptIndex(app.store, log).index(id, [{ startMs: 0, endMs: 900, text: 'yesterday’s news' }]);
      const found = async () => (await app.call('GET', '/api/transcripts/search?q=news')).json.results.length as number;
      app.clock.advance(86_400_000);
      assert.equal(await found(), 1, 'ended exactly a day ago: still kept');
      app.clock.advance(1);
      assert.equal(await found(), 0, 'past retention: its recording is deleted');
      const lines = await app.store.community().searchTranscripts({ phrase: 'news', limit: 5, offset: 0 });
      assert.equal(lines.length, 1, 'the lines linger here (no sweep ran): search hides them');
    } finally {
      await app.close();
    }
  });
});

describe('transcript search: bounded phrase, rate-limited per address', () => {
  test('a phrase over 200 characters is 400 VALIDATION_FAILED naming q; 200 is searched', async () => {
    const app = await makeTestApp();
    try {
      const long = await app.call('GET', `/api/transcripts/search?q=${'a'.repeat(201)}`);
      assert.deepEqual([long.status, long.json.error.code], [400, 'VALIDATION_FAILED']);
      assert.match(JSON.stringify(long.json.error.details), /\bq\b/);
      assert.equal((await app.call('GET', `/api/transcripts/search?q=${'a'.repeat(200)}`)).status, 200);
    } finally {
      await app.close();
    }
  });

  test('past the bucket, 429 RATE_LIMITED with Retry-After; another address is not limited; the bucket refills on the clock', async () => {
    const app = await makeTestApp({
      server: { trustProxy: true },
      rateLimits: { transcriptSearchPerAddress: { capacity: 3, refillPerSecond: 0.5 } },
    });
    try {
      const search = (address: string) =>
        app.call('GET', '/api/transcripts/search?q=flood', { headers: { 'x-forwarded-for': address } });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await search('203.0.113.9')).status);
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      const limited = await search('203.0.113.9');
      assert.deepEqual([limited.status, limited.json.error.code], [429, 'RATE_LIMITED']);
      assert.equal(limited.headers['retry-after'], '2');
      assert.equal((await search('203.0.113.10')).status, 200, 'another address has its own bucket');
      app.clock.advance(2000);
      assert.equal((await search('203.0.113.9')).status, 200, 'refilled');
      assert.equal((await search('203.0.113.9')).status, 429);
    } finally {
      await app.close();
    }
  });
});
