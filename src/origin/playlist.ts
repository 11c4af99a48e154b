/**
 * Renders LL-HLS playlists (RFC 8216bis, Apple Low-Latency HLS). Players without LL support ignore
 * the EXT-X-PART tags and play the same playlist as ordinary HLS from its segments.
 */
export interface SegmentInfo {
  readonly msn: number;
  readonly durationMs: number;
  /** Wall-clock time of the segment's first sample. */
  readonly programDateTimeMs: number;
  /** No media: the audio of an outage (a crash, a failed write). Players skip it (EXT-X-GAP). */
  readonly gap?: true;
  /** The first segment of a new encoder run, after a restart (EXT-X-DISCONTINUITY). */
  readonly discontinuity?: true;
  /** Who was heard in each of its parts (an account id, or null for nobody); absent when nobody was. For chapters. */
  readonly speakers?: readonly (string | null)[];
}

export interface PartInfo {
  readonly msn: number;
  readonly index: number;
  readonly durationMs: number;
}

export interface PlaylistState {
  readonly partTargetMs: number;
  readonly segmentTargetMs: number;
  /** Complete, stored segments, oldest first. */
  readonly segments: readonly SegmentInfo[];
  /** Parts to list: those of the last few segments and of the segment in progress. */
  readonly parts: readonly PartInfo[];
  /** The segment in progress (its parts so far are in `parts`), when live. */
  readonly current: { readonly msn: number; readonly programDateTimeMs: number; readonly discontinuity: boolean } | undefined;
  /** The next part to be produced, announced as a preload hint when live. */
  readonly next: { readonly msn: number; readonly index: number } | undefined;
  readonly ended: boolean;
  /**
   * Live only: list just the last `windowSegments` segments (a sliding window, bounded whatever the
   * length of the Space). Undefined lists every segment (an EVENT playlist: DVR from the start).
   */
  readonly windowSegments?: number | undefined;
  /** A delta update (`_HLS_skip=YES`): segments before the skip boundary become one EXT-X-SKIP. */
  readonly skip?: boolean | undefined;
  /** Discontinuities among segments no longer kept (a recording window), for EXT-X-DISCONTINUITY-SEQUENCE. */
  readonly droppedDiscontinuities?: number | undefined;
}

/** CAN-SKIP-UNTIL, in target durations: the minimum RFC 8216bis allows. */
const SKIP_TARGET_DURATIONS = 6;

export const segmentUri = (msn: number) => `s${msn}.m4s`;
export const partUri = (msn: number, index: number) => `p${msn}.${index}.m4s`;
const seconds = (ms: number) => (ms / 1000).toFixed(3);

export function mediaPlaylist(s: PlaylistState): string {
  const targetDuration = Math.ceil(s.segmentTargetMs / 1000);
  const live = !s.ended;
  const windowed = live && s.windowSegments !== undefined;
  const listed = windowed ? s.segments.slice(-s.windowSegments) : s.segments;
  const firstMsn = listed[0]?.msn ?? s.current?.msn ?? s.next?.msn ?? 0;
  const discontinuities =
    (s.droppedDiscontinuities ?? 0) + s.segments.filter((seg) => seg.msn < firstMsn && seg.discontinuity === true).length;
  // EVENT promises that segments are only ever added: not for a sliding window, nor once old ones were dropped.
  const event = !windowed && (s.segments[0]?.msn ?? 0) === 0;
  const skipUntil = SKIP_TARGET_DURATIONS * targetDuration;
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:9',
    `#EXT-X-TARGETDURATION:${targetDuration}`,
    `#EXT-X-PART-INF:PART-TARGET=${seconds(s.partTargetMs)}`,
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,${live ? `CAN-SKIP-UNTIL=${skipUntil},` : ''}PART-HOLD-BACK=${seconds(3 * s.partTargetMs)},HOLD-BACK=${3 * targetDuration}`,
    ...(event ? ['#EXT-X-PLAYLIST-TYPE:EVENT'] : []),
    `#EXT-X-MEDIA-SEQUENCE:${firstMsn}`,
    ...(discontinuities > 0 ? [`#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuities}`] : []),
    '#EXT-X-MAP:URI="init.mp4"',
  ];
  const skipped = live && s.skip === true ? skippable(listed, skipUntil * 1000) : 0;
  if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
  const partsOf = (msn: number) =>
    s.parts
      .filter((p) => p.msn === msn)
      .map((p) => `#EXT-X-PART:DURATION=${seconds(p.durationMs)},URI="${partUri(p.msn, p.index)}",INDEPENDENT=YES`);
  for (const seg of listed.slice(skipped)) {
    if (seg.discontinuity === true) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(seg.programDateTimeMs).toISOString()}`);
    lines.push(...partsOf(seg.msn));
    if (seg.gap === true) lines.push('#EXT-X-GAP');
    lines.push(`#EXTINF:${seconds(seg.durationMs)},`, segmentUri(seg.msn));
  }
  if (!s.ended && s.current !== undefined) {
    const inProgress = partsOf(s.current.msn);
    if (inProgress.length > 0) {
      if (s.current.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.current.programDateTimeMs).toISOString()}`);
    }
    lines.push(...inProgress);
  }
  if (!s.ended && s.next !== undefined) lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${partUri(s.next.msn, s.next.index)}"`);
  if (s.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** How many leading segments end before the skip boundary (`untilMs` before the playlist's end). */
function skippable(segments: readonly SegmentInfo[], untilMs: number): number {
  let fromEnd = 0;
  for (let i = segments.length - 1; i >= 0; i--) {
    fromEnd += segments[i]!.durationMs;
    if (fromEnd > untilMs) return i; // segment i reaches past the boundary: skip only those before it
  }
  return 0;
}

/** The multivariant playlist: one Opus rendition, and with `subtitles` the captions' WebVTT rendition (`subs.m3u8`). */
export function multivariantPlaylist(bandwidthBps: number, subtitles = false): string {
  const subs =
    '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English (automatic)",LANGUAGE="en",AUTOSELECT=YES,DEFAULT=NO,URI="subs.m3u8"';
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:9',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    ...(subtitles ? [subs] : []),
    `#EXT-X-STREAM-INF:BANDWIDTH=${bandwidthBps},AVERAGE-BANDWIDTH=${bandwidthBps},CODECS="opus"${subtitles ? ',SUBTITLES="subs"' : ''}`,
    'media.m3u8',
    '',
  ].join('\n');
}
