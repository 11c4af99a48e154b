import assert from 'node:assert/strict';
import { test } from 'node:test';
import HLS from 'hls-parser';
import { pino } from 'pino';
import { OriginPlane } from '../../src/origin/plane.ts';
import type { SubtitleCue, SubtitleSource } from '../../src/origin/subtitles.ts';
import { ProgramStream } from '../../src/stage/program.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { rethrow } from '../helpers/events.ts';
import { MemoryMediaStorage } from '../helpers/media-storage.ts';
import { originConfig } from '../helpers/origin-config.ts';
import { programFrame } from '../helpers/program.ts';

/**
 * The WebVTT subtitle rendition of a captioned live Space, on the test clock with captions from a fake
 * source: the multivariant playlist names it only while captioned (byte for byte today's otherwise),
 * `subs.m3u8` is aligned with `media.m3u8` (target duration, media sequence numbers), segments wait
 * for their captions to be final, and each VTT holds the cues that overlap its segment.
 */
HLS.setOptions({ strictMode: true });
const SPACE = 'sp_SUBTITLES000';
const text = async (origin: OriginPlane, file: string) => new TextDecoder().decode((await origin.get(SPACE, file, {})).body);

function rig(source: SubtitleSource | undefined, firstSequence = 0) {
  const clock = new ManualClock(Date.UTC(2026, 10, 30, 20));
  const origin = new OriginPlane({
    config: originConfig(),
    storage: new MemoryMediaStorage(),
    clock,
    log: pino({ level: 'silent' }),
    programBitrateBps: 48_000,
    preSkip: 312,
    ...(source === undefined ? {} : { subtitles: source }),
  });
  const program = new ProgramStream(rethrow);
  origin.attach(SPACE, program);
  let sequence = firstSequence;
  const play = (ms: number) => {
    for (let t = 0; t < ms; t += 20) {
      clock.advance(20);
      program.emit('frame', programFrame(SPACE, sequence++, clock.now() - 20));
    }
  };
  return { origin, program, play };
}

/** A captions source whose lines and settled time the test sets. */
function fakeCaptions() {
  const state = { on: true, cues: [] as SubtitleCue[], settledMs: 0 };
  const source: SubtitleSource = {
    subtitles: () => (state.on ? { cues: state.cues, settledMs: state.settledMs } : undefined),
  };
  return { state, source };
}

const MULTIVARIANT =
  '#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-INDEPENDENT-SEGMENTS\n' +
  '#EXT-X-STREAM-INF:BANDWIDTH=48000,AVERAGE-BANDWIDTH=48000,CODECS="opus"\nmedia.m3u8\n';

test('without captions the multivariant playlist is byte for byte what it was, and there is no subs.m3u8', async () => {
  const { origin, play } = rig(undefined);
  play(4000);
  assert.equal(await text(origin, 'index.m3u8'), MULTIVARIANT);
  assert.equal((await origin.get(SPACE, 'index.m3u8', {})).cacheControl, 'public, max-age=3600');
  await assert.rejects(origin.get(SPACE, 'subs.m3u8', {}), { code: 'HLS_OBJECT_NOT_FOUND' });
  const off = fakeCaptions();
  off.state.on = false;
  const quiet = rig(off.source);
  quiet.play(2000);
  assert.equal(await text(quiet.origin, 'index.m3u8'), MULTIVARIANT, 'captions possible but off: no SUBTITLES');
});

test('captioned: a SUBTITLES rendition, aligned with the audio, segments listed once their captions are final', async () => {
  const { state, source } = fakeCaptions();
  // The program began before this track: program time 10 s is media time 0.
  const { origin, play, program } = rig(source, 500);
  state.cues = [
    { startMs: 10_300, endMs: 12_600, text: 'the quick brown fox' },
    { startMs: 13_100, endMs: 15_400, text: 'jumps over the lazy dog' },
  ];
  play(6000); // segments 0, 1, 2 (media 0-6 s = program 10-16 s)
  const index = await text(origin, 'index.m3u8');
  assert.match(
    index,
    /#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English \(automatic\)",LANGUAGE="en",AUTOSELECT=YES,DEFAULT=NO,URI="subs.m3u8"\n#EXT-X-STREAM-INF:[^\n]*CODECS="opus",SUBTITLES="subs"\nmedia.m3u8\n/,
  );
  const master = HLS.parse(index) as HLS.types.MasterPlaylist;
  assert.equal(master.variants[0]!.subtitles[0]!.uri, 'subs.m3u8');

  state.settledMs = 13_000; // final up to media 3 s: only segment 0 (0-2 s) is ready
  let subs = HLS.parse(await text(origin, 'subs.m3u8')) as HLS.types.MediaPlaylist;
  const media = HLS.parse(await text(origin, 'media.m3u8')) as HLS.types.MediaPlaylist;
  assert.equal(subs.targetDuration, media.targetDuration);
  assert.equal(subs.mediaSequenceBase, media.mediaSequenceBase);
  assert.deepEqual(
    subs.segments.map((s) => s.uri),
    ['subs0.vtt'],
  );
  await assert.rejects(origin.get(SPACE, 'subs1.vtt', {}), { code: 'HLS_OBJECT_NOT_FOUND' }, 'not final yet');

  state.settledMs = 16_000;
  subs = HLS.parse(await text(origin, 'subs.m3u8')) as HLS.types.MediaPlaylist;
  assert.deepEqual(
    subs.segments.map((s) => [s.uri, s.duration]),
    [
      ['subs0.vtt', 2],
      ['subs1.vtt', 2],
      ['subs2.vtt', 2],
    ],
  );
  const vtt0 = await text(origin, 'subs0.vtt');
  assert.equal(
    vtt0,
    'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n00:00:00.300 --> 00:00:02.600\nthe quick brown fox\n',
  );
  const vtt1 = await text(origin, 'subs1.vtt');
  assert.match(vtt1, /00:00:00\.300 --> 00:00:02\.600\nthe quick brown fox/, 'a cue over two segments is in both');
  assert.match(vtt1, /00:00:03\.100 --> 00:00:05\.400\njumps over the lazy dog/);
  assert.doesNotMatch(await text(origin, 'subs2.vtt'), /quick/);
  assert.equal((await origin.get(SPACE, 'subs0.vtt', {})).contentType, 'text/vtt; charset=utf-8');
  assert.equal((await origin.get(SPACE, 'index.m3u8', {})).cacheControl, 'public, max-age=2');

  // One utterance that never ends: segments are listed anyway 8 s after they end.
  state.settledMs = 16_000;
  play(10_000); // media 16 s
  subs = HLS.parse(await text(origin, 'subs.m3u8')) as HLS.types.MediaPlaylist;
  assert.equal(subs.segments.at(-1)!.uri, 'subs3.vtt', 'segment 3 (6-8 s) waited 8 s; segment 4 waits on');

  program.emit('end', { spaceId: SPACE, frames: 0, final: true });
  await assert.rejects(origin.get(SPACE, 'subs.m3u8', {}), { code: 'HLS_OBJECT_NOT_FOUND' }, 'no live track any more');
  assert.equal(await text(origin, 'index.m3u8'), MULTIVARIANT);
});
