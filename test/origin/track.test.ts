import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import { FileMediaStorage } from '../../src/origin/storage.ts';
import { LiveTrack, type RecordingManifest } from '../../src/origin/track.ts';
import { trackOptions } from '../helpers/origin-config.ts';

function makeTrack(
  clock: ManualClock,
  storage = new FileMediaStorage(mkdtempSync(join(tmpdir(), 'amphi-track-'))),
  resume?: RecordingManifest,
) {
  const track = new LiveTrack(trackOptions('sp_track000000', storage, clock), resume);
  let sequence = 0;
  const frames = (n: number) => {
    for (let i = 0; i < n; i++) {
      clock.advance(20);
      track.push({
        spaceId: 'sp_track000000',
        sequence,
        ptsSamples: sequence * 960,
        durationSamples: 960,
        wallClockMs: clock.now(),
        data: new Uint8Array([sequence & 0xff, 1, 2]),
      });
      sequence++;
    }
  };
  return { track, frames, storage };
}

describe('LiveTrack (LL-HLS packaging on an injected clock)', () => {
  test('parts every 500 ms, segments every 2 s, stored before listed, with LL-HLS tags', () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 1));
    const { track, frames, storage } = makeTrack(clock);
    frames(24);
    assert.equal(track.part(0, 0), undefined, 'a part appears only when its last frame does');
    frames(1);
    assert.ok(track.part(0, 0) !== undefined);
    frames(75 + 50);
    const playlist = track.playlist();
    assert.match(playlist, /#EXT-X-PART-INF:PART-TARGET=0\.500/);
    assert.match(playlist, /#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12,PART-HOLD-BACK=1\.500,HOLD-BACK=6/);
    assert.match(playlist, /#EXTINF:2\.000,\ns0\.m4s/);
    assert.match(playlist, /#EXT-X-PART:DURATION=0\.500,URI="p1\.1\.m4s",INDEPENDENT=YES/);
    assert.match(playlist, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p1\.2\.m4s"/);
    assert.doesNotMatch(playlist, /#EXT-X-ENDLIST/);
    assert.ok(storage.read('sp_track000000', 's0.m4s') !== undefined, 'segment 0 is on disk');
    assert.equal(storage.read('sp_track000000', 's1.m4s'), undefined, 'segment 1 is not finished, so not listed either');
    assert.doesNotMatch(playlist, /s1\.m4s/);
  });

  test('blocking reload resolves the moment the part exists, and times out on the clock', async () => {
    const clock = new ManualClock(0);
    const { track, frames } = makeTrack(clock);
    let resolved: boolean | undefined;
    void track.waitFor(0, 1, 6000).then((r) => (resolved = r));
    frames(49);
    await Promise.resolve();
    assert.equal(resolved, undefined, 'still waiting one frame before the part');
    frames(1);
    await Promise.resolve();
    assert.equal(resolved, true, 'resolved on the frame that completed part 0.1');
    let late: boolean | undefined;
    void track.waitFor(2, 0, 6000).then((r) => (late = r));
    clock.advance(6000);
    await Promise.resolve();
    assert.equal(late, false, 'gave up after the blocking timeout');
  });

  test('end flushes the partial segment, adds ENDLIST, and a restart resumes numbering from the manifest', () => {
    const clock = new ManualClock(0);
    const { track, frames, storage } = makeTrack(clock);
    frames(230); // two full segments (2 s each) and 0.6 s more
    track.end();
    track.end();
    const final = new TextDecoder().decode(storage.read('sp_track000000', 'media.m3u8'));
    assert.match(final, /#EXT-X-ENDLIST\n$/);
    assert.match(final, /#EXTINF:0\.600,\ns2\.m4s/, 'the last, short segment is listed with its real duration');
    assert.doesNotMatch(final, /PRELOAD-HINT/);
    const manifest = JSON.parse(new TextDecoder().decode(storage.read('sp_track000000', 'recording.json'))) as RecordingManifest;
    assert.equal(manifest.segments.length, 3);
    assert.equal(manifest.ended, true);
    const resumed = makeTrack(clock, storage, { ...manifest, ended: false, suspended: true });
    resumed.frames(100);
    assert.match(
      resumed.track.playlist(),
      /#EXT-X-DISCONTINUITY\n[^\n]+\n(?:#EXT-X-PART:[^\n]+\n)*#EXTINF:2\.000,\ns3\.m4s/,
      'numbering continues after a restart',
    );
  });
});
