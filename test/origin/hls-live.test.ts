import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { toneShare } from '../../src/stage/audio.ts';
import { eventually, realTime } from '../helpers/eventually.ts';
import { ffmpegDecode } from '../helpers/ffmpeg.ts';
import { startLiveServer, type LiveServer } from '../helpers/server.ts';
import { hasCommands, optionalSuite, skipUnless } from '../helpers/skip.ts';
import { publishTone, type TonePublisher } from '../helpers/whip-client.ts';

/**
 * The listener path end to end on real sockets: a WHIP publisher's tone, the origin's LL-HLS, the
 * edge with the token in the path, and Debian's ffmpeg as the player. CI installs ffmpeg and sets
 * AMPHI_TEST_FFMPEG=1; without ffmpeg the suite is skipped with a notice.
 */
const skip = skipUnless({
  available: hasCommands('ffmpeg'),
  env: 'AMPHI_TEST_FFMPEG',
  suite: 'LL-HLS player tests',
  install: 'ffmpeg',
});

/** Parses `#EXT-X-PART` and segment lines of a media playlist. */
function parsePlaylist(text: string) {
  const parts = [...text.matchAll(/#EXT-X-PART:DURATION=([\d.]+),URI="p(\d+)\.(\d+)\.m4s"/g)].map((m) => ({
    durationMs: Math.round(Number(m[1]) * 1000),
    msn: Number(m[2]),
    index: Number(m[3]),
  }));
  const segments = [...text.matchAll(/#EXTINF:([\d.]+),\ns(\d+)\.m4s/g)].map((m) => ({
    durationMs: Math.round(Number(m[1]) * 1000),
    msn: Number(m[2]),
  }));
  const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p(\d+)\.(\d+)\.m4s"/.exec(text);
  const pdt = [...text.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)/g)].map((m) => Date.parse(m[1]!));
  return { parts, segments, hint: hint === null ? undefined : { msn: Number(hint[1]), index: Number(hint[2]) }, pdt };
}

/** Sum of the sample durations in a CMAF chunk's trun boxes, in ms (48 kHz). */
function trunDurationMs(data: Uint8Array): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let total = 0;
  for (let i = 0; i + 8 < data.length; i++) {
    if (data[i] === 0x74 && data[i + 1] === 0x72 && data[i + 2] === 0x75 && data[i + 3] === 0x6e) {
      const count = view.getUint32(i + 8);
      for (let s = 0; s < count; s++) total += view.getUint32(i + 16 + s * 8);
    }
  }
  return (total / 48_000) * 1000;
}

optionalSuite('LL-HLS through the edge', { skip, timeout: 120_000 }, () => {
  let server: LiveServer;
  before(async () => {
    server = await startLiveServer();
  });
  after(() => server.shutdown());

  test('a listener hears the speaker: ffmpeg reads the playlist URL for 10 s and the dominant tone is 440 Hz', async () => {
    const { spaceId, host } = await server.liveSpace(0);
    const pub = await publishTone({ ...(await server.stageToken(spaceId, host.token)), frequencyHz: 440 });
    try {
      await pub.connected();
      await eventually('a part in the playlist to start from', async () => {
        const media = await server.origin.get(spaceId, 'media.m3u8', {});
        return parsePlaylist(Buffer.from(media.body).toString()).parts.length > 0;
      });
      const joinedAt = Date.now();
      const join = await server.api('POST', `/api/spaces/${spaceId}/join`);
      const { playlistUrl } = join.json as { playlistUrl: string };
      // Join to first audio, as an LL-HLS player does it: playlists, then the preload-hinted part.
      const base = playlistUrl.slice(0, playlistUrl.lastIndexOf('/') + 1);
      await (await fetch(playlistUrl)).text();
      const media = parsePlaylist(await (await fetch(`${base}media.m3u8`)).text());
      const last = media.parts[media.parts.length - 1]!;
      const firstPart = await fetch(`${base}p${last.msn}.${last.index}.m4s`);
      assert.equal(firstPart.status, 200);
      await firstPart.arrayBuffer();
      const joinToFirstAudioMs = Date.now() - joinedAt;
      console.log(`join to first audio: ${joinToFirstAudioMs} ms`);
      assert.ok(joinToFirstAudioMs < 1000, `join to first audio ${joinToFirstAudioMs} ms`);

      // ffmpeg is not an LL-HLS player: it starts from whole segments, so give it two.
      await eventually(
        'two whole segments in the playlist',
        async () => parsePlaylist(await (await fetch(`${base}media.m3u8`)).text()).segments.length >= 2,
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      const { pcm, code, stderr } = await ffmpegDecode(playlistUrl, 10);
      assert.equal(code, 0, stderr);
      assert.ok(pcm.length >= 9.5 * 48_000, `decoded ${pcm.length / 48_000} s`);
      assert.ok(toneShare(pcm, 440) > 0.9, `440 Hz share ${toneShare(pcm, 440)}`);
      const view = await server.api('GET', `/api/spaces/${spaceId}`);
      assert.ok(view.json.space.listenerCount >= 1, 'the edge counts the listener');
    } finally {
      await pub.close();
    }
  });

  test('conformance across joins, mutes and reconnects; blocking reload; replay after the end', async () => {
    const { spaceId, host, speakers } = await server.liveSpace(1);
    const hostCredential = await server.stageToken(spaceId, host.token);
    const publishers: TonePublisher[] = [await publishTone({ ...hostCredential, frequencyHz: 440 })];
    // Every publisher still open is closed however the test ends (each at most once).
    const closePublishers = async () => {
      for (const pub of publishers.splice(0)) await pub.close();
    };
    try {
      const joined = await server.api('POST', `/api/spaces/${spaceId}/join`);
      assert.equal(joined.status, 200, JSON.stringify(joined.json));
      const { playlistUrl } = joined.json as { playlistUrl: string };
      const base = playlistUrl.slice(0, playlistUrl.lastIndexOf('/') + 1);
      const seen: { msn: number; index: number }[] = [];
      const availability: number[] = [];
      let hint: { msn: number; index: number } | undefined;
      // An LL-HLS client loop: block on the next part, note when it arrives against its program time.
      const follow = async (untilMs: number) => {
        while (Date.now() < untilMs) {
          const query = hint === undefined ? '' : `?_HLS_msn=${hint.msn}&_HLS_part=${hint.index}`;
          const res = await fetch(`${base}media.m3u8${query}`);
          assert.equal(res.status, 200, await res.clone().text());
          const playlist = parsePlaylist(await res.text());
          if (hint !== undefined) {
            const got = playlist.parts.find((p) => p.msn === hint!.msn && p.index === hint!.index);
            assert.ok(got !== undefined, 'a blocking reload returns a playlist that has the part asked for');
            const segmentStart = playlist.pdt[playlist.pdt.length - 1]!;
            const inProgress = playlist.parts.filter((p) => p.msn === got.msn);
            const partStart = segmentStart + inProgress.slice(0, got.index).reduce((n, p) => n + p.durationMs, 0);
            if (inProgress.length === got.index + 1) availability.push(Date.now() - partStart);
          }
          for (const p of playlist.parts) if (!seen.some((s) => s.msn === p.msn && s.index === p.index)) seen.push(p);
          hint = playlist.hint;
        }
      };
      await realTime(1000, 'the host on the program a while before a listener follows it');
      await follow(Date.now() + 2000);
      publishers.push(
        await publishTone({ ...(await server.stageToken(spaceId, speakers[0]!.token)), frequencyHz: 660, amplitude: 0.1 }),
      );
      await follow(Date.now() + 1500);
      await server.api('POST', `/api/spaces/${spaceId}/members/${speakers[0]!.id}/mute`, host.token);
      await follow(Date.now() + 1000);
      await publishers.shift()!.close(); // the host reconnects
      publishers.unshift(await publishTone({ ...hostCredential, frequencyHz: 440 }));
      await follow(Date.now() + 2000);

      // Monotonic numbering: parts follow each other without gaps or repeats.
      for (let i = 1; i < seen.length; i++) {
        const [a, b] = [seen[i - 1]!, seen[i]!];
        const next = (a.index === 3 && b.msn === a.msn + 1 && b.index === 0) || (b.msn === a.msn && b.index === a.index + 1);
        assert.ok(next, `part ${b.msn}.${b.index} after ${a.msn}.${a.index}`);
      }
      availability.sort((x, y) => x - y);
      const p = (q: number) => availability[Math.min(availability.length - 1, Math.floor(q * availability.length))]!;
      console.log(
        `part available at the edge after its first sample was mixed: p50 ${p(0.5)} ms, p95 ${p(0.95)} ms (n=${availability.length})`,
      );
      assert.ok(p(0.95) < 1000, `part availability p95 ${p(0.95)} ms`);

      // Every URI in the playlists is fetchable; part and segment durations match their tags.
      const live = await (await fetch(`${base}media.m3u8`)).text();
      const parsed = parsePlaylist(live);
      assert.equal((await fetch(`${base}init.mp4`)).status, 200);
      for (const part of parsed.parts) {
        const res = await fetch(`${base}p${part.msn}.${part.index}.m4s`);
        assert.equal(res.status, 200, `p${part.msn}.${part.index}`);
        assert.equal(Math.round(trunDurationMs(new Uint8Array(await res.arrayBuffer()))), part.durationMs);
      }
      for (const seg of parsed.segments) {
        const res = await fetch(`${base}s${seg.msn}.m4s`);
        assert.equal(res.status, 200, `s${seg.msn}`);
        assert.equal(Math.round(trunDurationMs(new Uint8Array(await res.arrayBuffer()))), seg.durationMs);
      }

      // The end: the replay is listed and plays start to finish within 5 s.
      await closePublishers();
      const endedAt = Date.now();
      await server.api('POST', `/api/spaces/${spaceId}/end`, host.token);
      const view = await server.api('GET', `/api/spaces/${spaceId}`);
      assert.equal(view.json.space.replay.available, true);
      const replay = (await server.api('POST', `/api/spaces/${spaceId}/join`)).json as { playlistUrl: string };
      // Edges may hold the live playlist for its max-age (1 s); the final one follows.
      const finalPlaylist = await eventually(
        'the final playlist (with #EXT-X-ENDLIST)',
        async () => {
          const text = await (await fetch(replay.playlistUrl.replace('index.m3u8', 'media.m3u8'))).text();
          return text.includes('#EXT-X-ENDLIST') && text;
        },
        { timeoutMs: endedAt + 5000 - Date.now(), intervalMs: 100 },
      );
      console.log(`replay complete ${Date.now() - endedAt} ms after the end`);
      assert.ok(Date.now() - endedAt < 5000, 'replay available within 5 s of the end');
      const total = parsePlaylist(finalPlaylist).segments.reduce((n, s) => n + s.durationMs, 0);
      const { pcm, code, stderr } = await ffmpegDecode(replay.playlistUrl);
      assert.equal(code, 0, stderr);
      assert.ok(Math.abs(pcm.length / 48 - total) < 100, `replay decoded ${pcm.length / 48} ms of ${total} ms`);
      assert.ok(toneShare(pcm, 440) > 0.8, `440 Hz share of the replay ${toneShare(pcm, 440)}`);
    } finally {
      await closePublishers();
    }
  });
});
