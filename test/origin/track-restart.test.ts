import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeTime } from '../../src/edge/stream.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { LiveTrack, type RecordingManifest, type StorageOutcome } from '../../src/origin/track.ts';
import { MemoryMediaStorage } from '../helpers/media-storage.ts';
import { trackOptions } from '../helpers/origin-config.ts';
import { programFrame } from '../helpers/program.ts';

const SPACE = 'sp_RESTART00000';
const SEGMENT_SAMPLES = 2 * 48_000;

/** A track on the test clock (500 ms parts, 2 s segments) over `storage`, resuming `resume` if given. */
function track(storage: MemoryMediaStorage, clock: ManualClock, resume?: RecordingManifest) {
  const outcomes: StorageOutcome[] = [];
  const t = new LiveTrack(trackOptions(SPACE, storage, clock, { onStorage: (o) => outcomes.push(o) }), resume);
  let sequence = 0;
  /** `n` frames of 20 ms on the clock; `fill` replaces their payload (to tell two runs apart). */
  const frames = (n: number, fill?: number) => {
    for (let i = 0; i < n; i++) {
      clock.advance(20);
      const frame = programFrame(SPACE, sequence++, clock.now() - 20);
      t.push(fill === undefined ? frame : { ...frame, data: new Uint8Array([0xf8, fill]) });
    }
  };
  return { track: t, frames, outcomes };
}

const manifestOf = (storage: MemoryMediaStorage) => JSON.parse(storage.text(SPACE, 'recording.json')!) as RecordingManifest;

/** Segment files by name, copied (to compare bytes later). */
function segmentFiles(storage: MemoryMediaStorage): Map<string, Uint8Array> {
  return new Map([...storage.files].filter(([k]) => /\/s\d+\.m4s$/.test(k)).map(([k, v]) => [k, v.slice()]));
}

describe('a recording across restarts (write-once segments, marked holes, on the test clock)', () => {
  test('shutdown suspends: the partial segment is listed, nothing ends, and the next process resumes after it', () => {
    const storage = new MemoryMediaStorage();
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 20));
    const first = track(storage, clock);
    first.frames(230); // two full segments and 0.6 s
    first.track.suspend();
    first.track.suspend();
    const manifest = manifestOf(storage);
    assert.equal(manifest.ended, false, 'a restart must not end the recording');
    assert.equal(manifest.suspended, true);
    assert.deepEqual(
      manifest.segments.map((s) => s.durationMs),
      [2000, 2000, 600],
    );
    assert.doesNotMatch(first.track.playlist(), /ENDLIST/);
    const before = segmentFiles(storage);

    clock.advance(30_000); // the restart
    const second = track(storage, clock, manifest);
    second.frames(200);
    second.track.end();
    const playlist = second.track.playlist();
    assert.doesNotMatch(playlist, /EXT-X-GAP/, 'a clean restart loses nothing');
    assert.equal(playlist.match(/#EXT-X-DISCONTINUITY\n/g)?.length, 1, 'one discontinuity: the new encoder run');
    assert.match(
      playlist,
      /#EXTINF:0\.600,\ns2\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n(?:#EXT-X-PART:[^\n]+\n)*#EXTINF:2\.000,\ns3\.m4s/,
    );
    for (const [name, bytes] of before) assert.deepEqual(storage.files.get(name), bytes, `${name} was rewritten`);
    // The media timeline goes on where it stopped: s3 starts at 4.6 s.
    assert.equal(decodeTime(storage.read(SPACE, 's3.m4s')!), 4600 * 48);
    assert.equal(manifestOf(storage).segments.length, 5);
  });

  test('after a crash the segment then in progress is a gap, never reused, and an unlisted file is set aside', () => {
    const storage = new MemoryMediaStorage();
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 20));
    const first = track(storage, clock);
    first.frames(360); // s0..s2 listed, 1.2 s of s3 in parts only
    const served = first.track.part(3, 0);
    assert.ok(served !== undefined);
    const manifest = manifestOf(storage); // what a kill -9 leaves behind
    assert.equal(manifest.suspended, false);
    // A crash between writing a segment and listing it leaves that file behind, unlisted.
    storage.create(SPACE, 's3.m4s', new Uint8Array([1, 2, 3]));

    const second = track(storage, clock, manifest);
    assert.equal(storage.read(SPACE, 's3.m4s'), undefined, 'the unlisted file is out of the way');
    assert.deepEqual(storage.read(SPACE, '.s3.m4s.unlisted'), new Uint8Array([1, 2, 3]), 'and kept for the operator');
    second.frames(100);
    const playlist = second.track.playlist();
    assert.match(playlist, /#EXT-X-GAP\n#EXTINF:2\.000,\ns3\.m4s\n#EXT-X-DISCONTINUITY\n/);
    assert.equal(playlist.match(/#EXT-X-GAP/g)?.length, 1);
    assert.notDeepEqual(second.track.part(3, 0), served, 'no part of the lost segment is produced again');
    assert.equal(second.track.part(3, 0), undefined);
    // The timeline stays continuous through the gap: s4 starts where s3 (2 s) ends.
    assert.equal(decodeTime(storage.read(SPACE, 's4.m4s')!), 4 * SEGMENT_SAMPLES);
    assert.equal(manifestOf(storage).segments.find((s) => s.msn === 3)?.gap, true);
  });

  test('a failover: the whole hole, from the last listed segment to the new start, is listed as gap segments', () => {
    const storage = new MemoryMediaStorage();
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 20));
    const first = track(storage, clock);
    first.frames(360); // s0..s2 listed (ending at 6 s), 1.2 s of s3 in parts only
    const manifest = manifestOf(storage);
    clock.advance(5800); // the lease expires and another node takes over: 7 s after s2 ended

    const second = track(storage, clock, manifest);
    second.frames(100);
    const segments = manifestOf(storage).segments;
    assert.deepEqual(
      segments.filter((s) => s.gap === true).map((s) => s.msn),
      [3, 4, 5, 6],
      '7 s of hole: four 2 s gap segments',
    );
    const start = Date.UTC(2026, 10, 29, 20);
    assert.deepEqual(
      segments.filter((s) => s.gap === true).map((s) => s.programDateTimeMs - start),
      [6000, 8000, 10_000, 12_000],
    );
    const next = segments.find((s) => s.msn === 7)!;
    assert.equal(next.discontinuity, true);
    assert.equal(next.programDateTimeMs - start, 13_000, 'the first new segment starts at the wall clock of the take-over');
    // Media time and fragment numbers move past all four.
    assert.equal(decodeTime(storage.read(SPACE, 's7.m4s')!), 7 * SEGMENT_SAMPLES);
    assert.equal(second.track.part(6, 3), undefined);
  });

  test('a hole longer than a minute lists 30 gap segments; the rest shows as the date-time jump', () => {
    const storage = new MemoryMediaStorage();
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 20));
    track(storage, clock).frames(100); // s0 listed
    const manifest = manifestOf(storage);
    clock.advance(10 * 60_000);
    track(storage, clock, manifest).frames(100);
    const segments = manifestOf(storage).segments;
    assert.equal(segments.filter((s) => s.gap === true).length, 30);
    assert.equal(segments.find((s) => s.msn === 31)?.discontinuity, true);
  });

  test('a crash before the first segment is recognised: the manifest exists from the start', () => {
    const storage = new MemoryMediaStorage();
    const clock = new ManualClock(0);
    track(storage, clock).frames(30);
    const second = track(storage, clock, manifestOf(storage));
    second.frames(100);
    assert.match(
      second.track.playlist(),
      /#EXT-X-GAP\n#EXTINF:2\.000,\ns0\.m4s\n#EXT-X-DISCONTINUITY\n[^\n]+\n#EXT-X-PART[^\n]+p1\.0/,
    );
  });

  test('a segment is written once: a second write of the same name is refused', () => {
    const storage = new MemoryMediaStorage();
    const clock = new ManualClock(0);
    const first = track(storage, clock);
    first.frames(100);
    const s0 = storage.read(SPACE, 's0.m4s')!.slice();
    // A resume that wrongly believed nothing was listed would collide with s0.m4s...
    const wrong = track(storage, clock);
    wrong.frames(100, 0xee);
    // ...and is refused (reported, listed as a gap) instead of overwriting the recording.
    assert.deepEqual(storage.read(SPACE, 's0.m4s'), s0);
    const refused = wrong.outcomes.find((o) => !o.ok);
    assert.ok(refused !== undefined && !refused.ok);
    assert.equal(refused.file, 's0.m4s');
    assert.match(String(refused.error), /EEXIST/);
  });
});

describe('storage faults while recording', () => {
  test('a failed segment write is a gap; the track stays consistent and recording resumes when storage returns', () => {
    const storage = new MemoryMediaStorage();
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 20));
    const t = track(storage, clock);
    t.frames(100); // s0 written
    storage.full = true;
    t.frames(200); // s1, s2 fail
    const during = t.track.playlist();
    assert.equal(during.match(/#EXT-X-GAP/g)?.length, 2);
    assert.match(
      during,
      /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p3\.0\.m4s"/,
      'numbering moves on: no part piles up under one segment',
    );
    assert.ok(t.track.part(2, 3) !== undefined, 'live listeners still get the parts of a segment that could not be stored');
    assert.ok(t.outcomes.some((o) => !o.ok && o.file === 's1.m4s'));
    storage.full = false;
    t.frames(100); // s3 written
    t.track.end();
    const manifest = manifestOf(storage);
    assert.deepEqual(
      manifest.segments.map((s) => (s.gap === true ? 'gap' : 'ok')),
      ['ok', 'gap', 'gap', 'ok'],
    );
    assert.ok(
      manifest.segments.every((s) => s.durationMs <= 2000),
      'no segment exceeds the target duration',
    );
    assert.equal(decodeTime(storage.read(SPACE, 's3.m4s')!), 3 * SEGMENT_SAMPLES, 'the timeline is whole across the outage');
    assert.ok(t.outcomes.at(-1)?.ok);
    assert.doesNotMatch(t.track.playlist(), /DISCONTINUITY/, 'a storage outage does not restart the encoder');
  });

  test('parts stay listed only within three target durations of the playlist end (RFC 8216bis 4.4.4.9)', () => {
    const storage = new MemoryMediaStorage();
    const clock = new ManualClock(0);
    const t = track(storage, clock);
    for (let step = 0; step < 60; step++) {
      t.frames(5);
      const lines = t.track.playlist().split('\n');
      const firstPart = lines.findIndex((l) => l.startsWith('#EXT-X-PART:'));
      if (firstPart < 0) continue;
      const after = lines.slice(firstPart);
      const seconds = after
        .filter(
          (l) =>
            l.startsWith('#EXTINF:') ||
            (l.startsWith('#EXT-X-PART:') && !after.slice(after.indexOf(l)).some((x) => x.startsWith('#EXTINF:'))),
        )
        .reduce((n, l) => n + Number(/(?:EXTINF:|DURATION=)([\d.]+)/.exec(l)![1]), 0);
      assert.ok(seconds <= 6, `parts reach ${seconds} s back from the end after ${(step + 1) * 100} ms`);
    }
  });
});
