/**
 * The WebVTT subtitle rendition of a captioned live Space (RFC 8216bis §4.4.6.1 `TYPE=SUBTITLES`):
 * `subs.m3u8` lists one `subs<N>.vtt` per audio segment N (same target duration, same media sequence
 * numbers), each holding the final caption cues that overlap that segment.
 *
 * Timeline: every VTT file says `X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000` and its cue times are the
 * recording's media time (the audio fragments' baseMediaDecodeTime / 48): media time 0 is MPEGTS 0, so
 * a player places cues exactly where it places the audio, whichever segment it joined at.
 *
 * Finals only: a listed segment is fetched once by a player (and cached by the edges), so it must not
 * change after it is listed. Segment N is listed once the captions are final past its end (the
 * recogniser has heard past it and no utterance is in progress across it), or `MAX_WAIT_MS` after its
 * end at the latest (one long utterance does not hold the rendition back forever; its words then show
 * from the next segments listed). The rendition trails the audio by the recogniser's endpointing delay.
 */
import { webVtt } from '../lib/webvtt.ts';
import type { SegmentInfo } from './playlist.ts';

/** A caption cue on the program's timeline (ms = PTS / 48). */
export interface SubtitleCue {
  readonly startMs: number;
  readonly endMs: number;
  readonly text: string;
}

/** What the origin needs of live captions (`Captions` on the media node, wired by the role). */
export interface SubtitleSource {
  /** A captioned Space's final cues and the program time up to which they are final; undefined when not captioned. */
  subtitles(spaceId: string): { readonly cues: readonly SubtitleCue[]; readonly settledMs: number } | undefined;
}

/** What the rendition reads of a Space's live track. */
export interface SubtitleTrack {
  readonly segments: readonly SegmentInfo[];
  /** Media time (ms) at the end of the last listed segment. */
  readonly listedEndMs: number;
  /** Media time minus program time (ms): the recording's timeline continues across restarts, the program's does not. */
  readonly programOffsetMs: number;
  readonly live: boolean;
  readonly ended: boolean;
}

export const SUBTITLE_PLAYLIST = 'subs.m3u8';
export const subtitleUri = (msn: number) => `subs${msn}.vtt`;
/** The longest a subtitle segment waits, after its audio segment ends, for its captions to be final. */
export const MAX_WAIT_MS = 8000;
const M3U8 = 'application/vnd.apple.mpegurl';

interface TimedSegment {
  readonly info: SegmentInfo;
  readonly startMs: number;
  readonly endMs: number;
}

/** The rendition's playlist: the segments ready so far (the last `windowSegments` while live). */
export function subtitlePlaylist(track: SubtitleTrack, lines: Lines, segmentTargetMs: number, windowSegments: number): string {
  const ready = readySegments(track, lines);
  const listed = track.live ? ready.slice(-windowSegments) : ready;
  const first = listed[0]?.info.msn ?? track.segments[ready.length]?.msn ?? (track.segments.at(-1)?.msn ?? -1) + 1;
  const discontinuities = track.segments.filter((s) => s.msn < first && s.discontinuity === true).length;
  const out = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${Math.ceil(segmentTargetMs / 1000)}`,
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
    ...(discontinuities > 0 ? [`#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuities}`] : []),
  ];
  for (const { info } of listed) {
    if (info.discontinuity === true) out.push('#EXT-X-DISCONTINUITY');
    out.push(`#EXTINF:${(info.durationMs / 1000).toFixed(3)},`, subtitleUri(info.msn));
  }
  if (track.ended) out.push('#EXT-X-ENDLIST');
  return `${out.join('\n')}\n`;
}

/** One listed segment's WebVTT; undefined when segment `msn` is not listed (yet, or any more). */
export function subtitleSegment(track: SubtitleTrack, lines: Lines, msn: number): string | undefined {
  const segment = readySegments(track, lines).find((s) => s.info.msn === msn);
  if (segment === undefined) return undefined;
  const cues = (lines?.cues ?? [])
    .map((c) => ({ ...c, startMs: c.startMs + track.programOffsetMs, endMs: c.endMs + track.programOffsetMs }))
    .filter((c) => c.startMs < segment.endMs && c.endMs > segment.startMs);
  return webVtt(cues, 'X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000');
}

export { vttTime, webVtt } from '../lib/webvtt.ts';

type Lines = ReturnType<SubtitleSource['subtitles']>;

/**
 * `subs.m3u8` or `subs<N>.vtt` of a Space's live track, where captions run; undefined when there is no
 * such file (yet). Captions turned off mid-Space leave the rendition listed, without new cues.
 */
export function subtitleFile(
  track: SubtitleTrack | undefined,
  source: SubtitleSource | undefined,
  spaceId: string,
  file: string,
  config: { readonly partDurationMs: number; readonly partsPerSegment: number; readonly liveWindowSegments: number },
): { readonly body: string; readonly contentType: string; readonly cacheControl: string } | undefined {
  if (track === undefined || source === undefined) return undefined;
  const lines = source.subtitles(spaceId);
  if (file === SUBTITLE_PLAYLIST) {
    const body = subtitlePlaylist(track, lines, config.partDurationMs * config.partsPerSegment, config.liveWindowSegments);
    return { body, contentType: M3U8, cacheControl: track.live ? 'public, max-age=1' : 'public, max-age=3600' };
  }
  const msn = /^subs(\d{1,9})\.vtt$/.exec(file)?.[1];
  const body = msn === undefined ? undefined : subtitleSegment(track, lines, Number(msn));
  return body === undefined ? undefined : { body, contentType: 'text/vtt; charset=utf-8', cacheControl: 'public, max-age=3600' };
}

/** Listed audio segments with their media times, those whose captions are final (or waited long enough). */
function readySegments(track: SubtitleTrack, lines: Lines): TimedSegment[] {
  const timed: TimedSegment[] = [];
  let end = track.listedEndMs;
  for (let i = track.segments.length - 1; i >= 0; i--) {
    const info = track.segments[i]!;
    timed.unshift({ info, startMs: end - info.durationMs, endMs: end });
    end -= info.durationMs;
  }
  if (!track.live || lines === undefined) return timed;
  const settled = lines.settledMs + track.programOffsetMs;
  return timed.filter((s) => s.endMs <= settled || track.listedEndMs - s.endMs >= MAX_WAIT_MS);
}
