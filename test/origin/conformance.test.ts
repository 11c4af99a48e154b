import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import HLS from 'hls-parser';
import { ManualClock } from '../../src/lib/clock.ts';
import { concat } from '../../src/origin/cmaf.ts';
import { LiveTrack, type RecordingManifest } from '../../src/origin/track.ts';
import { toneFrame } from '../../src/stage/audio.ts';
import { OpusEncoderMono } from '../../src/stage/codec.ts';
import { MemoryMediaStorage } from '../helpers/media-storage.ts';
import { trackOptions } from '../helpers/origin-config.ts';
import { hasCommands } from '../helpers/skip.ts';

/**
 * What the origin writes, read back by parsers that are not ours: every playlist of a show (through a
 * restart, a crash and a full disk) by hls-parser in strict mode; the init segment and the segments
 * by ffprobe (pre-skip, edit list, sample durations, timestamps).
 */
const SPACE = 'sp_CONFORMANCE0';
HLS.setOptions({ strictMode: true });

function show() {
  const storage = new MemoryMediaStorage();
  const clock = new ManualClock(Date.UTC(2026, 10, 29, 20));
  const encoder = new OpusEncoderMono({ bitrateBps: 48_000 });
  const playlists: string[] = [];
  let track: LiveTrack;
  let sample = 0;
  const open = (resume?: RecordingManifest) => {
    track = new LiveTrack(trackOptions(SPACE, storage, clock, { preSkip: encoder.lookahead }), resume);
  };
  /** `ms` of a 440 Hz tone, the playlist read every 100 ms. */
  const play = (ms: number) => {
    for (let t = 0; t < ms; t += 20) {
      clock.advance(20);
      track.push({
        spaceId: SPACE,
        sequence: sample / 960,
        ptsSamples: sample,
        durationSamples: 960,
        wallClockMs: clock.now() - 20,
        data: encoder.encode(toneFrame(440, 0.5, sample)),
      });
      sample += 960;
      // Every view a player may ask for: all of it, the live window, and delta updates of both.
      if (t % 100 === 80) {
        for (const view of [{}, { windowSegments: 6 }, { skip: true }, { windowSegments: 6, skip: true }])
          playlists.push(track.playlist(view));
      }
    }
  };
  const manifest = () => JSON.parse(storage.text(SPACE, 'recording.json')!) as RecordingManifest;
  open();
  play(9_300);
  track!.suspend(); // a graceful restart
  playlists.push(track!.playlist());
  clock.advance(20_000);
  open(manifest());
  play(6_100);
  const crashed = manifest(); // a kill -9
  clock.advance(20_000);
  open(crashed);
  play(4_000);
  storage.full = true; // the disk fills up for 5 s
  play(5_000);
  storage.full = false;
  play(6_000);
  track!.end();
  playlists.push(track!.playlist());
  return { storage, playlists, preSkip: encoder.lookahead, final: manifest() };
}

/** The listed durations of each run of consecutive gap segments, in ms. */
function mergeAdjacent(segments: RecordingManifest['segments']): number[] {
  const runs: number[] = [];
  let run = 0;
  for (const s of segments) {
    if (s.gap === true) run += s.durationMs;
    else if (run > 0) {
      runs.push(run);
      run = 0;
    }
  }
  return runs;
}

describe('conformance read back by other parsers', () => {
  const { storage, playlists, preSkip, final } = show();

  test('every playlist of the show passes hls-parser in strict mode', () => {
    assert.ok(playlists.length > 1200);
    for (const [i, text] of playlists.entries()) {
      let parsed: ReturnType<typeof HLS.parse>;
      try {
        parsed = HLS.parse(text);
      } catch (error) {
        assert.fail(`playlist ${i} refused: ${String(error)}\n${text}`);
      }
      assert.equal(parsed.isMasterPlaylist, false);
    }
    const last = HLS.parse(playlists.at(-1)!) as InstanceType<typeof HLS.types.MediaPlaylist>;
    assert.equal(last.endlist, true);
    assert.equal(last.segments.filter((s) => s.gap === true).length, final.segments.filter((s) => s.gap).length);
    assert.ok(last.segments.every((s) => s.duration <= last.targetDuration));
  });

  test(
    'ffprobe reads the pre-skip, the edit list, and sample durations and timestamps that match the playlist',
    { skip: !hasCommands('ffprobe') },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'amphi-probe-'));
      try {
        const recorded = final.segments.filter((s) => s.gap !== true);
        const file = join(dir, 'recording.mp4');
        writeFileSync(
          file,
          concat([storage.read(SPACE, 'init.mp4')!, ...recorded.map((s) => storage.read(SPACE, `s${s.msn}.m4s`)!)]),
        );
        const probe = spawnSync('ffprobe', ['-v', 'error', '-of', 'json', '-show_streams', '-show_packets', file], {
          encoding: 'utf8',
        });
        assert.equal(probe.status, 0, probe.stderr);
        const { streams, packets } = JSON.parse(probe.stdout) as {
          streams: { codec_name: string; start_pts: number; time_base: string }[];
          packets: { pts: number }[];
        };
        assert.equal(streams[0]!.codec_name, 'opus');
        assert.equal(preSkip, 312, 'the encoder reports its real lookahead');
        assert.equal(streams[0]!.start_pts, -preSkip, 'the edit list starts playback after the pre-skip');
        assert.equal(
          packets.length * 20,
          recorded.reduce((n, s) => n + s.durationMs, 0),
          'as many 20 ms samples as the playlist lists',
        );
        // Timestamps: 20 ms apart within a run; across a hole the timeline moves on by the hole's listed duration.
        const holes = final.segments.filter((s) => s.gap === true).map((s) => s.durationMs * 48);
        const jumps: number[] = [];
        for (let i = 1; i < packets.length; i++) {
          const step = packets[i]!.pts - packets[i - 1]!.pts;
          if (step !== 960) jumps.push(step - 960);
        }
        assert.deepEqual(
          jumps,
          mergeAdjacent(final.segments).map((ms) => ms * 48),
          `holes ${holes.join(', ')}`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
