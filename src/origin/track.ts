import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { mostHeard } from './chapters.ts';
import type { ProgramFrame } from '../stage/program.ts';
import { concat, fragment, initSegment, type FragmentSample } from './cmaf.ts';
import { mediaPlaylist, partUri, segmentUri, type PartInfo, type SegmentInfo } from './playlist.ts';
import type { MediaStorage } from './storage.ts';
import type { TrackStats } from './track-stats.ts';
import type { RecordingManifest } from './recording-manifest.ts';
export type { RecordingManifest } from './recording-manifest.ts';

export interface TrackOptions {
  readonly spaceId: string;
  readonly storage: MediaStorage;
  readonly clock: Clock;
  readonly log: Logger;
  readonly partDurationMs: number;
  readonly partsPerSegment: number;
  /** Opus pre-skip of the program encoder, in 48 kHz samples. */
  readonly preSkip: number;
  /** Told of every storage write: the origin turns failures into health, metrics and logs. */
  readonly onStorage: (outcome: StorageOutcome) => void;
  /** Counted for metrics in plain numbers (the origin's, shared by its tracks). */
  readonly stats?: TrackStats;
}

export type StorageOutcome =
  | { readonly ok: true; readonly spaceId: string; readonly file: string }
  | { readonly ok: false; readonly spaceId: string; readonly file: string; readonly error: unknown };

const FRAME_MS = 20;
const SAMPLES_PER_MS = 48;
/**
 * Complete segments whose parts stay listed (and in memory) behind the one in progress: with 2 s
 * segments, parts end within RFC 8216bis's three target durations of the playlist's end.
 */
const PART_WINDOW_SEGMENTS = 2;
/** The longest hole listed as gap segments (a minute); beyond it only the date-time jump shows. */
const MAX_GAP_SEGMENTS = 30;

interface Waiter {
  readonly msn: number;
  readonly part: number | undefined;
  readonly resolve: (ready: boolean) => void;
  readonly timer: TimerHandle;
}

/**
 * Packages one Space's program into LL-HLS as it is produced: every `partDurationMs` of frames
 * becomes a part (one CMAF chunk) the moment its last frame arrives; every `partsPerSegment` parts
 * become a segment, written durably (once, never rewritten) to storage and only then listed.
 * Blocking playlist reloads and preload-hinted part requests wait on this track.
 *
 * A track outlives its process: `suspend()` (shutdown) lists what was produced and leaves the
 * recording open; a new track resumes from the manifest, its first segment marked as a
 * discontinuity (a new encoder). After a crash (or a failover) the time from the end of the last
 * listed segment to the new start is listed as gap segments, so the replay's timeline keeps the wall
 * clock's. A failed write is a gap too: live listeners keep the parts, the replay skips the hole.
 */
export class LiveTrack {
  readonly spaceId: string;
  readonly #o: TrackOptions;
  readonly #framesPerPart: number;
  readonly #segmentTargetMs: number;
  readonly #init: Uint8Array;
  readonly #segments: SegmentInfo[];
  #parts: (PartInfo & { readonly data: Uint8Array })[] = [];
  #pending: FragmentSample[] = [];
  /** Frames of the part in progress by who was heard in them (chapters: the part goes to the most heard). */
  readonly #heard = new Map<string, number>();
  /** Who was heard in each part of the segment in progress. */
  #segmentSpeakers: (string | null)[] = [];
  #pendingStartTime = 0;
  #currentStartMs: number | undefined;
  #msn: number;
  #partIndex = 0;
  #nextFragment: number;
  #nextDecodeTime: number;
  /** The media time at the end of the last listed segment, and media minus program time (48 kHz samples). */
  #listedEnd: number;
  #programOffset: number | undefined;
  /** The next segment starts a new encoder run (set when resuming). */
  #discontinuity: boolean;
  #droppedDiscontinuities: number;
  /**
   * Keep only this many segments (the oldest are deleted as new ones are written): a window for a
   * Space that never ends, like the demo. Undefined keeps the whole recording.
   */
  keepSegments: number | undefined;
  #state: 'live' | 'suspended' | 'ended' = 'live';
  #waiters: Waiter[] = [];

  constructor(options: TrackOptions, resume?: RecordingManifest) {
    this.#o = options;
    this.spaceId = options.spaceId;
    this.#framesPerPart = options.partDurationMs / FRAME_MS;
    this.#segmentTargetMs = options.partDurationMs * options.partsPerSegment;
    this.#init = initSegment({ channels: 1, preSkip: options.preSkip });
    this.#segments = [...(resume?.segments ?? [])];
    this.#msn = this.#segments.length === 0 ? 0 : this.#segments[this.#segments.length - 1]!.msn + 1;
    this.#nextFragment = resume?.nextFragment ?? 1;
    this.#nextDecodeTime = resume?.nextDecodeTime ?? 0;
    this.#discontinuity = resume !== undefined;
    this.#droppedDiscontinuities = resume?.droppedDiscontinuities ?? 0;
    this.#store('init.mp4', this.#init, 'replace');
    if (resume !== undefined && resume.suspended !== true) this.#listCrashGap();
    this.#listedEnd = this.#nextDecodeTime;
    // Written now, so that a crash before the first segment is recognised as one.
    this.#persist();
  }

  push(frame: ProgramFrame): void {
    if (this.#state !== 'live') return;
    if (this.#pending.length === 0) this.#pendingStartTime = this.#nextDecodeTime;
    this.#programOffset ??= this.#nextDecodeTime - frame.ptsSamples;
    this.#currentStartMs ??= frame.wallClockMs;
    this.#pending.push({ duration: frame.durationSamples, data: frame.data });
    const speaker = frame.speaker;
    if (speaker !== undefined && speaker !== null) this.#heard.set(speaker, (this.#heard.get(speaker) ?? 0) + 1);
    this.#nextDecodeTime += frame.durationSamples;
    if (this.#pending.length === this.#framesPerPart) this.#closePart();
  }

  /** The Space ended: flushes what is pending, writes the final playlist and wakes every waiter. Idempotent. */
  end(): void {
    if (this.#state === 'ended') return;
    this.#flush();
    this.#state = 'ended';
    this.#persist();
    this.#release(true);
    this.#o.log.info({ spaceId: this.spaceId, segments: this.#segments.length }, 'recording finished');
  }

  /**
   * The process stops while the Space goes on: what is pending is flushed and listed (a short
   * segment), and the recording stays open for the next process to resume. Idempotent.
   */
  suspend(): void {
    if (this.#state !== 'live') return;
    this.#flush();
    this.#state = 'suspended';
    this.#persist();
    this.#release(false);
    this.#o.log.info({ spaceId: this.spaceId, segments: this.#segments.length }, 'recording suspended');
  }

  /**
   * Another process produces the Space now (it took the lease): this track stops at once and writes
   * nothing more, not even its manifest, which is the new owner's from now on. Idempotent.
   */
  abandon(): void {
    if (this.#state !== 'live') return;
    this.#state = 'suspended';
    this.#release(false);
    this.#o.log.warn({ spaceId: this.spaceId, segments: this.#segments.length }, 'recording abandoned to another node');
  }

  get ended(): boolean {
    return this.#state === 'ended';
  }

  /** Still taking frames (neither ended nor suspended). */
  get live(): boolean {
    return this.#state === 'live';
  }

  get init(): Uint8Array {
    return this.#init;
  }

  /** Media time (ms) at the end of the last listed segment. */
  get listedEndMs(): number {
    return this.#listedEnd / SAMPLES_PER_MS;
  }

  /** Media time minus program time (ms), from the first frame this track took (0 before it). */
  get programOffsetMs(): number {
    return (this.#programOffset ?? 0) / SAMPLES_PER_MS;
  }

  /** The listed segments so far. */
  get segments(): readonly SegmentInfo[] {
    return this.#segments;
  }

  /** A part still in memory (the last few segments and the one in progress). */
  part(msn: number, index: number): Uint8Array | undefined {
    return this.#parts.find((p) => p.msn === msn && p.index === index)?.data;
  }

  /** True when a request for this part may wait for it: it is the next one (preload hint) or just after. */
  isUpcomingPart(msn: number, index: number): boolean {
    if (this.#state !== 'live') return false;
    const ahead = (msn - this.#msn) * this.#o.partsPerSegment + (index - this.#partIndex);
    return ahead >= 0 && ahead <= this.#o.partsPerSegment && index < this.#o.partsPerSegment;
  }

  hasSegment(msn: number): boolean {
    return this.#segments.some((s) => s.msn === msn);
  }

  /**
   * The media playlist: every segment (`view` omitted: the replay and DVR from the start), or while
   * live a sliding window of `windowSegments`, optionally as a delta update (`skip`).
   */
  playlist(view: { readonly windowSegments?: number; readonly skip?: boolean } = {}): string {
    const live = this.#state === 'live';
    return mediaPlaylist({
      ...view,
      partTargetMs: this.#o.partDurationMs,
      segmentTargetMs: this.#segmentTargetMs,
      segments: this.#segments,
      parts: this.#parts,
      current:
        this.#currentStartMs === undefined
          ? undefined
          : { msn: this.#msn, programDateTimeMs: this.#currentStartMs, discontinuity: this.#discontinuity },
      next: live ? { msn: this.#msn, index: this.#partIndex } : undefined,
      ended: this.#state === 'ended',
      droppedDiscontinuities: this.#droppedDiscontinuities,
    });
  }

  /** Whether the playlist already holds segment `msn` (or its part `part`). */
  has(msn: number, part: number | undefined): boolean {
    if (this.#state === 'ended') return true;
    if (part === undefined) return this.hasSegment(msn);
    return this.hasSegment(msn) || this.#parts.some((p) => p.msn === msn && p.index === part);
  }

  /** How far ahead of the live edge a request is, in segments (for refusing far-future requests). */
  segmentsAhead(msn: number): number {
    return msn - this.#msn;
  }

  /** Resolves true as soon as `has(msn, part)`, or false after `timeoutMs` on the clock (at once when suspended). */
  waitFor(msn: number, part: number | undefined, timeoutMs: number): Promise<boolean> {
    if (this.has(msn, part)) return Promise.resolve(true);
    if (this.#state !== 'live') return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        msn,
        part,
        resolve,
        timer: this.#o.clock.setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Closes the pending part and the segment in progress, however short. */
  #flush(): void {
    if (this.#state !== 'live') return;
    if (this.#pending.length > 0) this.#closePart();
    if (this.#parts.some((p) => p.msn === this.#msn)) this.#closeSegment();
  }

  #closePart(): void {
    const data = fragment(this.#nextFragment++, this.#pendingStartTime, this.#pending);
    const durationMs = this.#pending.length * FRAME_MS;
    this.#segmentSpeakers.push(mostHeard(this.#heard, this.#pending.length));
    this.#heard.clear();
    this.#pending = [];
    this.#parts.push({ msn: this.#msn, index: this.#partIndex, durationMs, data });
    if (this.#o.stats !== undefined) this.#o.stats.parts++;
    this.#partIndex++;
    if (this.#partIndex === this.#o.partsPerSegment) this.#closeSegment();
    this.#wake();
  }

  #closeSegment(): void {
    const parts = this.#parts.filter((p) => p.msn === this.#msn);
    // Written (durably, once) before it is listed: the recording is the stream. A segment that
    // cannot be written is listed as a gap, so the timeline and the numbering stay whole.
    const written = this.#store(segmentUri(this.#msn), concat(parts.map((p) => p.data)), 'create');
    if (written && this.#o.stats !== undefined) this.#o.stats.segments++;
    this.#segments.push({
      msn: this.#msn,
      durationMs: parts.reduce((n, p) => n + p.durationMs, 0),
      programDateTimeMs: this.#currentStartMs ?? this.#o.clock.now(),
      ...(written ? {} : { gap: true as const }),
      ...(this.#discontinuity ? { discontinuity: true as const } : {}),
      ...(this.#segmentSpeakers.some((s) => s !== null) ? { speakers: this.#segmentSpeakers } : {}),
    });
    this.#segmentSpeakers = [];
    this.#listedEnd = this.#nextDecodeTime;
    this.#discontinuity = false;
    this.#msn++;
    this.#partIndex = 0;
    this.#currentStartMs = undefined;
    const oldest = this.#msn - PART_WINDOW_SEGMENTS;
    this.#parts = this.#parts.filter((p) => p.msn >= oldest);
    this.#persist();
    this.#dropBeyondWindow();
  }

  /**
   * After a crash or a failover: the segment in progress was lost (its parts perhaps served, its file
   * perhaps left unlisted). The hole, from the end of the last listed segment until now, is listed as
   * gap segments whose numbers are never reused; numbering, fragments and media time move past them.
   */
  #listCrashGap(): void {
    const last = this.#segments.at(-1);
    const start = last === undefined ? this.#o.clock.now() : last.programDateTimeMs + last.durationMs;
    const holeMs = this.#o.clock.now() - start;
    const count = Math.min(MAX_GAP_SEGMENTS, Math.max(1, Math.ceil(holeMs / this.#segmentTargetMs)));
    const first = this.#msn;
    for (let i = 0; i < count; i++) {
      if (this.#o.storage.setAside(this.spaceId, segmentUri(this.#msn), 'unlisted')) {
        this.#o.log.warn({ spaceId: this.spaceId, msn: this.#msn }, 'an unlisted segment from before a crash was set aside');
      }
      this.#segments.push({
        msn: this.#msn++,
        durationMs: this.#segmentTargetMs,
        programDateTimeMs: start + i * this.#segmentTargetMs,
        gap: true,
      });
    }
    this.#nextFragment += count * this.#o.partsPerSegment;
    this.#nextDecodeTime += count * this.#segmentTargetMs * SAMPLES_PER_MS;
    this.#o.log.warn(
      { spaceId: this.spaceId, firstMsn: first, gapSegments: count, holeMs },
      'recording resumed: the hole is a gap',
    );
  }

  /** With a recording window, deletes the oldest segments (listed first, deleted after the manifest no longer lists them). */
  #dropBeyondWindow(): void {
    const keep = this.keepSegments;
    if (keep === undefined || this.#segments.length <= keep) return;
    const dropped = this.#segments.splice(0, this.#segments.length - keep);
    this.#droppedDiscontinuities += dropped.filter((s) => s.discontinuity === true).length;
    this.#persist();
    for (const s of dropped) {
      try {
        this.#o.storage.remove(this.spaceId, segmentUri(s.msn));
      } catch (error) {
        this.#o.onStorage({ ok: false, spaceId: this.spaceId, file: segmentUri(s.msn), error });
      }
    }
  }

  #persist(): void {
    const manifest: RecordingManifest = {
      version: 1,
      partTargetMs: this.#o.partDurationMs,
      segmentTargetMs: this.#segmentTargetMs,
      segments: this.#segments,
      ended: this.#state === 'ended',
      suspended: this.#state === 'suspended',
      nextFragment: this.#nextFragment,
      nextDecodeTime: this.#nextDecodeTime,
      droppedDiscontinuities: this.#droppedDiscontinuities,
    };
    this.#store('recording.json', JSON.stringify(manifest), 'replace');
    if (this.#state === 'ended') this.#store('media.m3u8', this.playlist(), 'replace');
  }

  /** One write; a failure is reported (logged, counted, shown in health) and never thrown. */
  #store(file: string, data: Uint8Array | string, mode: 'create' | 'replace'): boolean {
    const { storage, stats } = this.#o;
    const started = performance.now();
    try {
      if (mode === 'create') storage.create(this.spaceId, file, data as Uint8Array);
      else storage.write(this.spaceId, file, data);
      stats?.writeSeconds.observe((performance.now() - started) / 1000);
    } catch (error) {
      this.#o.onStorage({ ok: false, spaceId: this.spaceId, file, error });
      return false;
    }
    this.#o.onStorage({ ok: true, spaceId: this.spaceId, file });
    return true;
  }

  #wake(): void {
    const ready = this.#waiters.filter((w) => this.has(w.msn, w.part));
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) {
      this.#o.clock.clearTimeout(w.timer);
      w.resolve(true);
    }
  }

  /** Wakes every waiter with `ready`. */
  #release(ready: boolean): void {
    for (const w of this.#waiters.splice(0)) {
      this.#o.clock.clearTimeout(w.timer);
      w.resolve(ready);
    }
  }
}

export { partUri, segmentUri };
