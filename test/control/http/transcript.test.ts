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

  test('a replay never captioned: 404 TRANSCRIPT_NOT_FOUND in every format', async () => {
    const id = await replay('Never captioned', { captioned: false });
    for (const path of ['transcript', 'transcript.vtt', 'transcript.txt']) {
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
