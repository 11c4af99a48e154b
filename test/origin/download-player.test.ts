import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { RecordingDownloads } from '../../src/origin/download.ts';
import { FileMediaStorage } from '../../src/origin/storage.ts';
import type { RecordingManifest } from '../../src/origin/track.ts';
import { SAMPLE_RATE, toneShare } from '../../src/stage/audio.ts';
import { makeTestApp, type TestApp } from '../helpers/app.ts';
import { ffmpegDecode } from '../helpers/ffmpeg.ts';
import { withRecordingFiles } from '../helpers/recording-app.ts';
import { toneOrigin } from '../helpers/tone-origin.ts';
import { hasCommands, optionalSuite, skipUnless } from '../helpers/skip.ts';

/**
 * The downloaded file in a real player: two minutes of a 440 Hz tone, encoded with the program's
 * Opus encoder and packaged by the origin on the test clock (made in about a second, not in real
 * time), the Space ended, then `recording.m4a` fetched over a socket and decoded by Debian's ffmpeg.
 * CI installs ffmpeg and sets AMPHI_TEST_FFMPEG=1; without ffmpeg the suite is skipped with a notice.
 */
const skip = skipUnless({
  available: hasCommands('ffmpeg'),
  env: 'AMPHI_TEST_FFMPEG',
  suite: 'recording download player test',
  install: 'ffmpeg',
});

const SECONDS = 120;
const BITRATE_BPS = 48_000;

optionalSuite('the recording download in a real player', { skip, timeout: 120_000 }, () => {
  let amphi: TestApp;
  let dir: string;
  before(async () => {
    amphi = await makeTestApp();
    dir = mkdtempSync(join(tmpdir(), 'amphi-download-'));
  });
  after(async () => {
    await amphi.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('ffmpeg decodes the downloaded file: the listed duration (less the Opus pre-skip) and the 440 Hz tone', async () => {
    const host = await amphi.signUp('player_host');
    const spaceId = (await amphi.call('POST', '/api/spaces', { token: host.token, body: { title: 'Two minutes of A' } })).json
      .space.id as string;
    assert.equal((await amphi.call('POST', `/api/spaces/${spaceId}/start`, { token: host.token })).status, 200);

    const storage = new FileMediaStorage(dir);
    const tone = toneOrigin({ config: amphi.config.origin, storage, clock: amphi.clock, spaceId, bitrateBps: BITRATE_BPS });
    tone.play(SECONDS);
    tone.end();
    assert.equal((await amphi.call('POST', `/api/spaces/${spaceId}/end`, { token: host.token })).status, 200);

    const manifest = JSON.parse(new TextDecoder().decode(storage.read(spaceId, 'recording.json'))) as RecordingManifest;
    const listedMs = manifest.segments.reduce((n, s) => n + s.durationMs, 0);
    assert.equal(manifest.ended, true);
    assert.equal(listedMs, SECONDS * 1000, 'the replay lists the whole two minutes');
    const files = new RecordingDownloads({ storage, log: pino({ level: 'silent' }) });
    assert.equal((await files.open(spaceId))?.durationMs, listedMs);

    const app = await withRecordingFiles(amphi, files);
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}/api/spaces/${spaceId}/recording.m4a`;
      const decoded = await ffmpegDecode(url);
      assert.equal(decoded.code, 0, decoded.stderr);
      assert.equal(decoded.stderr.trim(), '', 'ffmpeg reports nothing wrong with the file');
      const decodedMs = (decoded.pcm.length / SAMPLE_RATE) * 1000;
      const preSkipMs = (tone.preSkip / SAMPLE_RATE) * 1000;
      const share = toneShare(decoded.pcm, 440);
      console.log(
        `download: listed ${listedMs} ms, decoded ${decodedMs.toFixed(1)} ms (pre-skip ${preSkipMs} ms), 440 Hz share ${share.toFixed(4)}`,
      );
      assert.ok(Math.abs(decodedMs - (listedMs - preSkipMs)) <= 100, `decoded ${decodedMs} ms, listed ${listedMs} ms`);
      assert.ok(share > 0.95, `440 Hz is ${share} of the energy`);
    } finally {
      await app.close();
    }
  });

  test('a 20 s clip of a replay decodes to 20 s (±0.1 s) of what was said then; a live clip is of its recent past', async () => {
    const host = await amphi.signUp('clip_host');
    const fan = await amphi.signUp('clip_fan');
    const create = async (title: string) => {
      const id = (await amphi.call('POST', '/api/spaces', { token: host.token, body: { title } })).json.space.id as string;
      assert.equal((await amphi.call('POST', `/api/spaces/${id}/start`, { token: host.token })).status, 200);
      return id;
    };
    const spaceId = await create('Two tones');
    const storage = new FileMediaStorage(join(dir, 'clips'));
    const tone = toneOrigin({ config: amphi.config.origin, storage, clock: amphi.clock, spaceId, bitrateBps: BITRATE_BPS });
    tone.play(10, 440);
    tone.play(25, 660);
    tone.end();
    await amphi.call('POST', `/api/spaces/${spaceId}/end`, { token: host.token });
    const liveId = await create('Still on');
    const live = toneOrigin({
      config: amphi.config.origin,
      storage,
      clock: amphi.clock,
      spaceId: liveId,
      bitrateBps: BITRATE_BPS,
    });
    live.play(12, 440);

    const files = new RecordingDownloads({ storage, log: pino({ level: 'silent' }), preSkip: tone.preSkip });
    const app = await withRecordingFiles(amphi, files);
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      const clip = (id: string, body: object, token = fan.token) =>
        fetch(`${base}/api/spaces/${id}/clips`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token === '' ? {} : { authorization: `Bearer ${token}` }) },
          body: JSON.stringify(body),
        }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, any> })); // eslint-disable-line @typescript-eslint/no-explicit-any -- a test reads any shape

      const made = await clip(spaceId, { start: 12, end: 32 });
      assert.equal(made.status, 201, JSON.stringify(made.json));
      assert.equal(made.json.clip.durationSeconds, 20);
      const decoded = await ffmpegDecode(made.json.clip.audioUrl.replace(/^https?:\/\/[^/]+/, base));
      assert.equal(decoded.code, 0, decoded.stderr);
      const decodedS = decoded.pcm.length / SAMPLE_RATE;
      const share = toneShare(decoded.pcm.subarray(SAMPLE_RATE / 10), 660);
      console.log(`clip: 20 s asked, decoded ${decodedS.toFixed(3)} s, 660 Hz share ${share.toFixed(3)}`);
      assert.ok(Math.abs(decodedS - 20) <= 0.1, `decoded ${decodedS} s`);
      assert.ok(share > 0.9, `the clip is of the 660 Hz part: ${share}`);
      const page = await fetch(`${base}/api/clips/${made.json.clip.id}`).then((r) => r.json() as Promise<Record<string, any>>); // eslint-disable-line @typescript-eslint/no-explicit-any -- a test reads any shape
      assert.deepEqual(page.space, { id: spaceId, title: 'Two tones', host: { handle: 'clip_host' } });

      const recent = await clip(liveId, { last: 5 });
      assert.equal(recent.status, 201, JSON.stringify(recent.json));
      assert.deepEqual([recent.json.clip.start, recent.json.clip.end], [7, 12], 'the last 5 s recorded of a live Space');
      // Who may hear a clip follows its Space: once sign-in-only, anonymous visitors may not.
      await amphi.call('PATCH', `/api/spaces/${liveId}`, { token: host.token, body: { allowAnonymous: false } });
      const audio = `${base}/api/clips/${recent.json.clip.id}/audio.m4a`;
      assert.equal((await fetch(audio)).status, 401);
      const signedIn = await fetch(audio, { headers: { authorization: `Bearer ${fan.token}` } });
      assert.equal(signedIn.status, 200);
      assert.equal(signedIn.headers.get('cache-control'), 'private, max-age=3600');

      const refused = async (id: string, body: object, code: string, token?: string) =>
        assert.equal((await clip(id, body, token)).json.error.code, code, JSON.stringify(body));
      await refused(spaceId, { start: 0, end: 4 }, 'CLIP_RANGE_INVALID');
      await refused(spaceId, { start: 0, end: 61 }, 'CLIP_RANGE_INVALID');
      await refused(spaceId, { start: 30, end: 40 }, 'CLIP_RANGE_INVALID');
      await refused(spaceId, { start: 1 }, 'VALIDATION_FAILED');
      await refused(spaceId, { start: 1, end: 10 }, 'AUTH_REQUIRED', '');
      const scheduled = (await amphi.call('POST', '/api/spaces', { token: host.token, body: { title: 'Later' } })).json.space.id;
      await refused(scheduled as string, { last: 10 }, 'RECORDING_NOT_AVAILABLE');
      assert.equal((await fetch(`${base}/api/clips/cl_AAAAAAAAAAAA`)).status, 404);
    } finally {
      await app.close();
    }
  });
});
