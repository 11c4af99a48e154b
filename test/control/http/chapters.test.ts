import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { chapterTitle } from '../../../src/control/http/chapter-routes.ts';
import type { App } from '../../../src/lib/http-app.ts';
import { RecordingDownloads } from '../../../src/origin/download.ts';
import { FileMediaStorage } from '../../../src/origin/storage.ts';
import { saveTranscript, TRANSCRIPT_FILE } from '../../../src/origin/transcript.ts';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';
import { withRecordingFiles } from '../../helpers/recording-app.ts';

const log = pino({ level: 'silent' });

/**
 * A replay's chapters over HTTP (JSON and WebVTT) with and without a transcript: where there is one,
 * each chapter carries the first words said in it. The chapters themselves are `chaptersOf`'s
 * (test/origin/chapters.test.ts); measured end to end in test/stage/chapters.test.ts.
 */
describe("a replay's chapters with its transcript's excerpts", () => {
  let test_: TestApp;
  let app: App;
  let dir: string;
  let storage: FileMediaStorage;
  let host: { id: string; token: string };
  let guest: { id: string; token: string };

  before(async () => {
    test_ = await makeTestApp();
    dir = mkdtempSync(join(tmpdir(), 'amphi-chapters-'));
    storage = new FileMediaStorage(dir);
    app = await withRecordingFiles(test_, new RecordingDownloads({ storage, log }));
    host = await test_.signUp('ch_host');
    guest = await test_.signUp('ch_guest');
  });
  after(async () => {
    await app.close();
    await test_.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An ended Space recorded as 8 s of the host, then 8 s of the guest (2 s segments of four 500 ms parts). */
  const replay = async (title: string) => {
    const id = (await test_.call('POST', '/api/spaces', { token: host.token, body: { title } })).json.space.id as string;
    await test_.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    await test_.call('POST', `/api/spaces/${id}/end`, { token: host.token });
    const segments = Array.from({ length: 8 }, (_, msn) => ({
      msn,
      durationMs: 2000,
      programDateTimeMs: msn * 2000,
      speakers: Array<string>(4).fill(msn < 4 ? host.id : guest.id),
    }));
    storage.write(id, 'recording.json', JSON.stringify({ version: 1, ended: true, partTargetMs: 500, segments }));
    return id;
  };
  const get = (url: string) => app.inject({ method: 'GET', url });
  /** The cue texts of a chapters WebVTT file. */
  const cueTexts = (vtt: string) =>
    vtt
      .split('\n\n')
      .slice(1)
      .filter((b) => b.trim() !== '')
      .map((b) => b.trim().split('\n').slice(2).join('\n'));

  test('without a transcript: chapters as before (no excerpt; cues are @handle)', async () => {
    const id = await replay('Uncaptioned');
    const json = await get(`/api/spaces/${id}/chapters`);
    assert.equal(json.statusCode, 200);
    assert.deepEqual(json.json(), {
      chapters: [
        { start: 0, end: 8, speaker: { id: host.id, handle: 'ch_host' } },
        { start: 8, end: 16, speaker: { id: guest.id, handle: 'ch_guest' } },
      ],
    });
    assert.deepEqual(cueTexts((await get(`/api/spaces/${id}/chapters.vtt`)).body), ['@ch_host', '@ch_guest']);
  });

  test('with a transcript: each chapter has the first words said in it, in the JSON and the WebVTT cues', async () => {
    const id = await replay('Captioned');
    const said = (startMs: number, text: string) => ({
      startMs,
      endMs: startMs + 3000,
      text,
      words: text.split(' ').map((word, i) => ({ word, startMs: startMs + i * 300, endMs: startMs + i * 300 + 250 })),
    });
    assert.ok(
      saveTranscript(storage, log, id, [
        said(1000, 'welcome everyone to the show about foxes and dogs'),
        said(9000, 'thanks for having me'),
      ]),
    );
    const json = await get(`/api/spaces/${id}/chapters`);
    assert.deepEqual(
      json.json().chapters.map((c: { excerpt?: string }) => c.excerpt),
      ['welcome everyone to the show about foxes and…', 'thanks for having me'],
    );
    const vtt = await get(`/api/spaces/${id}/chapters.vtt`);
    assert.match(String(vtt.headers['content-type']), /^text\/vtt/);
    assert.deepEqual(cueTexts(vtt.body), [
      '@ch_host: “welcome everyone to the show about foxes and…”',
      '@ch_guest: “thanks for having me”',
    ]);
  });

  test('an unreadable transcript: the chapters still answer, without excerpts', async () => {
    const id = await replay('Broken transcript');
    storage.write(id, TRANSCRIPT_FILE, '{not json');
    const json = await get(`/api/spaces/${id}/chapters`);
    assert.equal(json.statusCode, 200);
    assert.deepEqual(
      json.json().chapters.map((c: { excerpt?: string }) => c.excerpt),
      [undefined, undefined],
    );
  });
});

test('a chapter cue escapes what WebVTT reads as markup (& < >) in the excerpt', () => {
  assert.equal(chapterTitle('ann', 'fish & <chips>'), '@ann: “fish & <chips>”', 'plain text: webVtt escapes cue text');
  assert.equal(chapterTitle('ann', undefined), '@ann');
});
