import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { eventually, realTime } from '../helpers/eventually.ts';
import { liveStage, SUITE } from './live-stage.ts';

/**
 * Chapters by speaker, end to end: two speakers take turns on a real stage (werift publishers, real
 * Opus), the Space ends, and the replay's chapters say who spoke when, to within a second of the
 * media time at which the program first carried the second speaker.
 */
describe('replay chapters from the stage', SUITE, () => {
  const stage = liveStage();

  test(
    'a replay with two speakers has two chapters at the right times (±1 s), as JSON and WebVTT',
    { timeout: 60_000 },
    async () => {
      const { server } = stage;
      const { spaceId, host, speakers } = await server.liveSpace(1);
      const guest = speakers[0]!;
      /** Media time (ms) of the first program frame that carried each speaker. */
      const firstHeard = new Map<string, number>();
      server.stage.openRoom(spaceId).program.on('frame', (f) => {
        if (f.speaker != null && !firstHeard.has(f.speaker)) firstHeard.set(f.speaker, f.ptsSamples / 48);
      });
      const first = await stage.publish({ ...(await server.stageToken(spaceId, host.token)), frequencyHz: 440, amplitude: 0.5 });
      await realTime(5000, 'the host speaks for five seconds');
      await first.close();
      await stage.publish({ ...(await server.stageToken(spaceId, guest.token)), frequencyHz: 660, amplitude: 0.5 });
      await realTime(5000, 'then the guest, for five seconds');
      // While live, the chapters so far (to catch up from one): the host's, then the guest's.
      const sofar = await server.api('GET', `/api/spaces/${spaceId}/chapters`);
      assert.equal(sofar.status, 200, JSON.stringify(sofar.json));
      assert.deepEqual(
        (sofar.json.chapters as { speaker: { id: string } }[]).map((c) => c.speaker.id),
        [host.id, guest.id],
      );
      assert.equal((await server.api('POST', `/api/spaces/${spaceId}/end`, host.token)).status, 200);
      await eventually(
        'the replay',
        async () => (await server.api('GET', `/api/spaces/${spaceId}`)).json.space.replay.available === true,
      );

      const res = await server.api('GET', `/api/spaces/${spaceId}/chapters`);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      const chapters = res.json.chapters as { start: number; end: number; speaker: { id: string; handle: string } }[];
      assert.deepEqual(
        chapters.map((c) => c.speaker.id),
        [host.id, guest.id],
        JSON.stringify(chapters),
      );
      const switchS = firstHeard.get(guest.id)! / 1000;
      console.log(
        `chapters: ${chapters.map((c) => `@${c.speaker.handle} ${c.start}-${c.end} s`).join(', ')}; guest first heard at ${switchS} s`,
      );
      assert.equal(chapters[0]!.start, 0);
      assert.ok(
        Math.abs(chapters[1]!.start - switchS) <= 1,
        `second chapter at ${chapters[1]!.start} s, guest first heard at ${switchS} s`,
      );
      assert.equal(chapters[0]!.end, chapters[1]!.start);
      const duration = (await server.api('GET', `/api/spaces/${spaceId}`)).json.space.replay.durationSeconds as number;
      assert.ok(Math.abs(chapters[1]!.end - duration) <= 1, `last chapter ends at ${chapters[1]!.end} s of ${duration} s`);

      const vtt = await fetch(`${server.url}/api/spaces/${spaceId}/chapters.vtt`);
      assert.equal(vtt.headers.get('content-type'), 'text/vtt; charset=utf-8');
      const text = await vtt.text();
      assert.match(text, /^WEBVTT\n/);
      const cues = [...text.matchAll(/^(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(.+)$/gm)];
      assert.deepEqual(
        cues.map((c) => c[3]),
        [`@${(await server.api('GET', `/api/spaces/${spaceId}`)).json.space.host.handle}`, `@${chapters[1]!.speaker.handle}`],
      );
      assert.equal(cues[0]![1], '00:00:00.000');
    },
  );

  test(
    'the host deletes a replay: its files go, and the replay, download and chapters answer 410',
    { timeout: 60_000 },
    async () => {
      const { server } = stage;
      const { spaceId, host, speakers } = await server.liveSpace(1);
      await stage.publish({ ...(await server.stageToken(spaceId, host.token)), frequencyHz: 440, amplitude: 0.5 });
      await realTime(2500, 'a little to record');
      const remove = (token?: string) => server.api('DELETE', `/api/spaces/${spaceId}/recording`, token);
      assert.equal((await remove(host.token)).json.error.code, 'RECORDING_NOT_AVAILABLE', 'not while live');
      await server.api('POST', `/api/spaces/${spaceId}/end`, host.token);
      await eventually(
        'the replay',
        async () => (await server.api('GET', `/api/spaces/${spaceId}`)).json.space.replay.available === true,
      );
      const media = join(server.dataDir, 'media', spaceId);
      assert.ok(existsSync(media), media);
      assert.equal((await remove()).status, 401);
      assert.equal((await remove(speakers[0]!.token)).json.error.code, 'HOST_ONLY');
      const deleted = await remove(host.token);
      assert.equal(deleted.status, 200, JSON.stringify(deleted.json));
      assert.deepEqual(deleted.json.space.replay, { available: false, durationSeconds: null });
      assert.equal(deleted.json.space.state, 'ended', 'the Space stays');
      assert.equal((await remove(host.token)).status, 200, 'idempotent');
      assert.ok(!existsSync(media), 'the recording is gone from disk');
      for (const path of ['recording.m4a', 'chapters', 'chapters.vtt']) {
        const res = await server.api('GET', `/api/spaces/${spaceId}/${path}`);
        assert.deepEqual([res.status, res.json.error.code], [410, 'RECORDING_DELETED'], path);
      }
      const joined = await server.api('POST', `/api/spaces/${spaceId}/join`, undefined, {});
      assert.deepEqual([joined.status, joined.json.error.code], [410, 'RECORDING_DELETED']);
    },
  );
});
