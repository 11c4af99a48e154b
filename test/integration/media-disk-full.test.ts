import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { call, post, quietDataDir, startAmphi, stop } from '../helpers/amphi-process.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually, realTime } from '../helpers/eventually.ts';
import { ffmpegDecode } from '../helpers/ffmpeg.ts';
import { hasCommands, optionalSuite } from '../helpers/skip.ts';
import { toneSeconds } from '../helpers/tone.ts';
import { publishTone, type TonePublisher } from '../helpers/whip-client.ts';

/**
 * A full disk under a live Space, on the real process: media storage is a 2 MB tmpfs that the test
 * fills and frees. Mounting needs root (CI runs as root); elsewhere the suite is skipped with a notice.
 */
function mountRefused(): false | string {
  if (!hasCommands('ffmpeg', 'mount')) return 'disk-full test skipped: needs ffmpeg and mount';
  const probe = mkdtempSync(join(tmpdir(), 'amphi-mount-probe-'));
  try {
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' }).status === 0;
    if (mounted) spawnSync('umount', [probe]);
    return mounted ? false : 'disk-full test skipped: mounting a tmpfs was refused (run as root, as CI does)';
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
const skip = mountRefused();
if (skip !== false) console.log(skip);

/** Fills the file system under `dir` to the last byte: larger writes first, then smaller ones. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'a');
  try {
    for (const size of [65_536, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch {
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

const health = async (url: string) => (await call('GET', `${url}/healthz`)).json;

optionalSuite('a full disk under a live Space (real process, tmpfs)', { skip, timeout: 180_000 }, () => {
  test(
    'degraded while full, listeners keep hearing, recording resumes when freed, the hole is a gap',
    { timeout: 150_000 },
    async () => {
      const cleanup = new Cleanup();
      const { dir, args } = quietDataDir(cleanup, 'full');
      const media = join(dir, 'media');
      mkdirSync(media);
      assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', media]).status, 0);
      cleanup.add('tmpfs', () => spawnSync('umount', ['-l', media]));
      try {
        const amphi = await startAmphi(cleanup, args);
        const host = await post(`${amphi.url}/api/accounts`, { handle: 'full_host', password: 'a real password' });
        const token = host.json.token as string;
        const spaceId = (await post(`${amphi.url}/api/spaces`, { title: 'On a full disk' }, token)).json.space.id as string;
        assert.equal((await post(`${amphi.url}/api/spaces/${spaceId}/start`, {}, token)).status, 200);
        const stage = await post(`${amphi.url}/api/spaces/${spaceId}/stage`, {}, token);
        const publisher = cleanup.use(
          'publisher',
          await publishTone({ whipUrl: stage.json.whipUrl as string, token: stage.json.token as string, frequencyHz: 440 }),
          (p: TonePublisher) => p.close().catch(() => {}),
        );
        await publisher.connected();
        await realTime(5000, 'segments written while there is room');
        assert.equal((await health(amphi.url)).status, 'ok');

        const filler = fill(media);
        const degraded = await eventually(
          'health to show the failing writes',
          async () => {
            const h = await health(amphi.url);
            return h.status === 'degraded' ? h : undefined;
          },
          { timeoutMs: 6000, intervalMs: 200 },
        );
        assert.match(String(degraded.failing.media.reason), /ENOSPC/);
        assert.ok(
          amphi.logs.some((l) => l.msg === 'media write failed'),
          'the failure is logged',
        );
        const metrics = await (await fetch(`${amphi.url}/metrics`)).text();
        assert.match(metrics, /amphi_origin_storage_healthy 0/);
        assert.match(metrics, /amphi_origin_storage_write_failures_total [1-9]/);
        // A Space whose media cannot be stored is refused before it goes live; nothing changes.
        const other = (await post(`${amphi.url}/api/spaces`, { title: 'Never started' }, token)).json.space.id as string;
        const refused = await post(`${amphi.url}/api/spaces/${other}/start`, {}, token);
        assert.equal(refused.status, 503);
        assert.equal(refused.json.error.code, 'MEDIA_STORAGE_UNAVAILABLE');
        assert.equal((await call('GET', `${amphi.url}/api/spaces/${other}`)).json.space.state, 'scheduled');
        // Live listeners are not served from the disk: they keep hearing the speaker.
        const listener = await post(`${amphi.url}/api/spaces/${spaceId}/join`, {});
        const live = await ffmpegDecode(listener.json.streamUrl as string, 2);
        assert.ok(toneSeconds(live.pcm) >= 1, `live.mp4 during the outage: ${toneSeconds(live.pcm)} s of tone`);

        rmSync(filler);
        await eventually('health to recover', async () => (await health(amphi.url)).status === 'ok', {
          timeoutMs: 6000,
          intervalMs: 200,
        });
        await realTime(4000, 'segments written again');
        assert.equal((await post(`${amphi.url}/api/spaces/${spaceId}/end`, {}, token)).status, 200);
        await publisher.close().catch(() => {});

        const replay = await post(`${amphi.url}/api/spaces/${spaceId}/join`, {});
        const playlist = await (await fetch(String(replay.json.playlistUrl).replace(/index\.m3u8$/, 'media.m3u8'))).text();
        const durations = [...playlist.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]));
        assert.ok(
          durations.every((d) => d <= 2),
          `no segment over the 2 s target: ${durations.join(', ')}`,
        );
        const gaps = playlist.match(/#EXT-X-GAP/g)?.length ?? 0;
        assert.ok(gaps >= 1, 'the outage is marked as a gap');
        const lines = playlist.split('\n');
        const lastGap = lines.lastIndexOf('#EXT-X-GAP');
        assert.ok(
          lines.slice(lastGap + 3).some((l) => /^s\d+\.m4s$/.test(l)),
          'segments recorded again after the gap',
        );
        assert.match(playlist, /#EXT-X-ENDLIST\n$/);
        const decoded = await ffmpegDecode(replay.json.playlistUrl as string);
        assert.equal(decoded.code, 0, decoded.stderr);
        console.log(
          `disk full: ${gaps} gap segments (${gaps * 2} s) of ${durations.length}; replay decodes to ${(decoded.pcm.length / 48_000).toFixed(1)} s ` +
            `with ${toneSeconds(decoded.pcm, 440, 48_000, 0).toFixed(1)} s audible`,
        );
        await stop(amphi, 'SIGTERM');
      } finally {
        await cleanup.run();
      }
    },
  );
});
