import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { toneShare } from '../../src/stage/audio.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { ffmpegDecode } from '../helpers/ffmpeg.ts';
import { startLiveServer, TEST_SIGNING_KEY } from '../helpers/server.ts';
import { hasCommands, optionalSuite, skipUnless } from '../helpers/skip.ts';
import { toneSeconds } from '../helpers/tone.ts';
import { publishTone } from '../helpers/whip-client.ts';

/**
 * Players that are not ours, and cannot renew a token, play a live Space three times longer than
 * its listener token lives: ffmpeg on the playlist and on live.mp4, GStreamer's playbin on the
 * playlist. The edge keeps a token in use alive; a held stream is checked only at connect.
 */
const skip = skipUnless({
  available: hasCommands('ffmpeg', 'gst-launch-1.0'),
  env: 'AMPHI_TEST_FFMPEG',
  suite: 'long-playing third-party players',
  install: 'ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-{base,good,bad}',
});

const TOKEN_LIFETIME_S = 20;
const PLAY_S = 60;

/** GStreamer decodes `url` to mono 48 kHz s16 on stdout for `seconds`, then is stopped. */
async function gstreamerDecode(url: string, seconds: number): Promise<{ pcm: Float32Array; stderr: string }> {
  const pipeline = `uridecodebin uri=${url} ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,channels=1,rate=48000 ! fdsink fd=1`;
  const child = spawn('gst-launch-1.0', ['-q', ...pipeline.split(' ')], {
    timeout: (seconds + 30) * 1000,
    killSignal: 'SIGKILL',
  });
  const chunks: Buffer[] = [];
  let stderr = '';
  let bytes = 0;
  child.stdout.on('data', (d: Buffer) => {
    chunks.push(d);
    bytes += d.length;
    if (bytes >= seconds * 48_000 * 2) child.kill('SIGTERM'); // enough audio: stop the player
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise((resolve) => child.on('exit', resolve));
  const all = Buffer.concat(chunks);
  const samples = new Int16Array(all.buffer, all.byteOffset, Math.floor(all.length / 2));
  return { pcm: Float32Array.from(samples, (s) => s / 32768), stderr };
}

optionalSuite('third-party players on short-lived tokens', { skip, timeout: 180_000 }, () => {
  test(
    `ffmpeg (playlist and live.mp4) and GStreamer play ${PLAY_S} s on a ${TOKEN_LIFETIME_S} s token without a stop`,
    { timeout: 150_000 },
    async () => {
      const cleanup = new Cleanup();
      try {
        const server = cleanup.use(
          'server',
          await startLiveServer({ tokens: { signingKey: TEST_SIGNING_KEY, listenerTokenTtlSeconds: TOKEN_LIFETIME_S } }),
          (s) => s.shutdown(),
        );
        const { spaceId, host } = await server.liveSpace(0);
        const publisher = cleanup.use(
          'publisher',
          await publishTone({ ...(await server.stageToken(spaceId, host.token)), frequencyHz: 440 }),
          (p) => p.close(),
        );
        await publisher.connected();
        await eventually(
          'two segments to start from',
          async () => {
            const playlist = new TextDecoder().decode((await server.origin.get(spaceId, 'media.m3u8', {})).body);
            return (playlist.match(/#EXTINF/g)?.length ?? 0) >= 2;
          },
          { timeoutMs: 10_000, intervalMs: 100 },
        );
        const join = await server.api('POST', `/api/spaces/${spaceId}/join`);
        const { playlistUrl, streamUrl } = join.json as { playlistUrl: string; streamUrl: string };
        const [hls, held, gst] = await Promise.all([
          ffmpegDecode(playlistUrl, PLAY_S),
          ffmpegDecode(streamUrl, PLAY_S),
          gstreamerDecode(playlistUrl, PLAY_S),
        ]);
        for (const [name, result] of [
          ['ffmpeg, playlist', hls],
          ['ffmpeg, live.mp4', held],
          ['GStreamer, playlist', gst],
        ] as const) {
          const seconds = result.pcm.length / 48_000;
          console.log(
            `${name}: ${seconds.toFixed(1)} s decoded, ${toneSeconds(result.pcm, 440, 48_000, 0).toFixed(1)} s audible, 440 Hz share ${toneShare(result.pcm, 440).toFixed(3)}`,
          );
          assert.ok(seconds >= PLAY_S - 1, `${name} stopped after ${seconds} s: ${result.stderr.slice(-500)}`);
          assert.ok(toneSeconds(result.pcm, 440, 48_000, 0) >= PLAY_S - 3, `${name}: silence in what it played`);
          assert.ok(toneShare(result.pcm, 440) > 0.85, `${name}: 440 Hz share ${toneShare(result.pcm, 440)}`);
        }
      } finally {
        await cleanup.run();
      }
    },
  );
});
