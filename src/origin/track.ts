import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { ProgramFrame } from '../stage/program.ts';
import { concat, fragment, initSegment, type FragmentSample } from './cmaf.ts';
import { mediaPlaylist, partUri, segmentUri, type PartInfo, type SegmentInfo } from './playlist.ts';
import type { MediaStorage } from './storage.ts';

export interface TrackOptions {
  readonly spaceId: string;
  readonly storage: MediaStorage;
  readonly clock: Clock;
  readonly log: Logger;
  readonly partDurationMs: number;
  readonly partsPerSegment: number;
  /** Opus pre-skip of the program encoder, in 48 kHz samples. */
  readonly preSkip: number;
}

/** What is kept on disk beside the segments, so a restart loses nothing already listed. */
export interface RecordingManifest {
  readonly version: 1;
  readonly partTargetMs: number;
  readonly segmentTargetMs: number;
  readonly segments: SegmentInfo[];
  readonly ended: boolean;
  /** Where a continuing recording resumes its fragment numbering and media timeline. */
  readonly nextFragment: number;
  readonly nextDecodeTime: number;
}

const FRAME_MS = 20;
/** Segments whose parts stay listed (and in memory) behind the live edge. */
const PART_WINDOW_SEGMENTS = 3;

interface Waiter {
  readonly msn: number;
  readonly part: number | undefined;
  readonly resolve: (ready: boolean) => void;
  readonly timer: TimerHandle;
}

/**
 * Packages one Space's program into LL-HLS as it is produced: every `partDurationMs` of frames
 * becomes a part (one CMAF chunk) the moment its last frame arrives; every `partsPerSegment` parts
 * become a segment, written durably to storage and only then listed. Blocking playlist reloads and
 * preload-hinted part requests wait on this track.
 */
export class LiveTrack {
  readonly spaceId: string;
  readonly #o: TrackOptions;
  readonly #framesPerPart: number;
  readonly #init: Uint8Array;
  #segments: SegmentInfo[];
  #parts: (PartInfo & { readonly data: Uint8Array })[] = [];
  #pending: FragmentSample[] = [];
  #pendingStartTime = 0;
  #currentStartMs: number | undefined;
  #msn: number;
  #partIndex = 0;
  #nextFragment: number;
  #nextDecodeTime: number;
  #ended = false;
  #waiters: Waiter[] = [];

  constructor(options: TrackOptions, resume?: RecordingManifest) {
    this.#o = options;
    this.spaceId = options.spaceId;
    this.#framesPerPart = options.partDurationMs / FRAME_MS;
    this.#init = initSegment({ channels: 1, preSkip: options.preSkip });
    this.#segments = resume?.segments ?? [];
    this.#msn = this.#segments.length === 0 ? 0 : this.#segments[this.#segments.length - 1]!.msn + 1;
    this.#nextFragment = resume?.nextFragment ?? 1;
    this.#nextDecodeTime = resume?.nextDecodeTime ?? 0;
    options.storage.write(options.spaceId, 'init.mp4', this.#init);
  }

  push(frame: ProgramFrame): void {
    if (this.#ended) return;
    if (this.#pending.length === 0) this.#pendingStartTime = this.#nextDecodeTime;
    this.#currentStartMs ??= frame.wallClockMs;
    this.#pending.push({ duration: frame.durationSamples, data: frame.data });
    this.#nextDecodeTime += frame.durationSamples;
    if (this.#pending.length === this.#framesPerPart) this.#closePart();
  }

  /** Flushes what is pending, writes the final playlist and wakes every waiter. Idempotent. */
  end(): void {
    if (this.#ended) return;
    if (this.#pending.length > 0) this.#closePart();
    if (this.#parts.some((p) => p.msn === this.#msn)) this.#closeSegment();
    this.#ended = true;
    this.#persist();
    for (const w of this.#waiters.splice(0)) {
      this.#o.clock.clearTimeout(w.timer);
      w.resolve(true);
    }
    this.#o.log.info({ spaceId: this.spaceId, segments: this.#segments.length }, 'recording finished');
  }

  get ended(): boolean {
    return this.#ended;
  }

  get init(): Uint8Array {
    return this.#init;
  }

  /** A part still in memory (the last few segments and the one in progress). */
  part(msn: number, index: number): Uint8Array | undefined {
    return this.#parts.find((p) => p.msn === msn && p.index === index)?.data;
  }

  /** True when a request for this part may wait for it: it is the next one (preload hint) or just after. */
  isUpcomingPart(msn: number, index: number): boolean {
    if (this.#ended) return false;
    const ahead = (msn - this.#msn) * this.#o.partsPerSegment + (index - this.#partIndex);
    return ahead >= 0 && ahead <= this.#o.partsPerSegment && index < this.#o.partsPerSegment;
  }

  hasSegment(msn: number): boolean {
    return this.#segments.some((s) => s.msn === msn);
  }

  playlist(): string {
    return mediaPlaylist({
      partTargetMs: this.#o.partDurationMs,
      segmentTargetMs: this.#o.partDurationMs * this.#o.partsPerSegment,
      segments: this.#segments,
      parts: this.#parts,
      current: this.#currentStartMs === undefined ? undefined : { msn: this.#msn, programDateTimeMs: this.#currentStartMs },
      next: { msn: this.#msn, index: this.#partIndex },
      ended: this.#ended,
    });
  }

  /** Whether the playlist already holds segment `msn` (or its part `part`). */
  has(msn: number, part: number | undefined): boolean {
    if (this.#ended) return true;
    if (part === undefined) return this.hasSegment(msn);
    return this.hasSegment(msn) || this.#parts.some((p) => p.msn === msn && p.index === part);
  }

  /** How far ahead of the live edge a request is, in segments (for refusing far-future requests). */
  segmentsAhead(msn: number): number {
    return msn - this.#msn;
  }

  /** Resolves true as soon as `has(msn, part)`, or false after `timeoutMs` on the clock. */
  waitFor(msn: number, part: number | undefined, timeoutMs: number): Promise<boolean> {
    if (this.has(msn, part)) return Promise.resolve(true);
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

  #closePart(): void {
    const data = fragment(this.#nextFragment++, this.#pendingStartTime, this.#pending);
    const durationMs = this.#pending.length * FRAME_MS;
    this.#pending = [];
    this.#parts.push({ msn: this.#msn, index: this.#partIndex, durationMs, data });
    this.#partIndex++;
    if (this.#partIndex === this.#o.partsPerSegment) this.#closeSegment();
    this.#wake();
  }

  #closeSegment(): void {
    const parts = this.#parts.filter((p) => p.msn === this.#msn);
    const data = concat(parts.map((p) => p.data));
    // Written (durably) before it is listed: the recording is the stream.
    this.#o.storage.write(this.spaceId, segmentUri(this.#msn), data);
    this.#segments.push({
      msn: this.#msn,
      durationMs: parts.reduce((n, p) => n + p.durationMs, 0),
      programDateTimeMs: this.#currentStartMs ?? this.#o.clock.now(),
    });
    this.#msn++;
    this.#partIndex = 0;
    this.#currentStartMs = undefined;
    const oldest = this.#msn - PART_WINDOW_SEGMENTS;
    this.#parts = this.#parts.filter((p) => p.msn >= oldest);
    this.#persist();
  }

  #persist(): void {
    const manifest: RecordingManifest = {
      version: 1,
      partTargetMs: this.#o.partDurationMs,
      segmentTargetMs: this.#o.partDurationMs * this.#o.partsPerSegment,
      segments: this.#segments,
      ended: this.#ended,
      nextFragment: this.#nextFragment,
      nextDecodeTime: this.#nextDecodeTime,
    };
    this.#o.storage.write(this.spaceId, 'recording.json', JSON.stringify(manifest));
    if (this.#ended) this.#o.storage.write(this.spaceId, 'media.m3u8', this.playlist());
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
}

export { partUri, segmentUri };
