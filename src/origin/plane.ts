import type { Config } from '../config/schema.ts';
import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { ProgramStream } from '../stage/program.ts';
import { initSegment } from './cmaf.ts';
import { mediaPlaylist, multivariantPlaylist } from './playlist.ts';
import type { RoomState } from './room-state.ts';
import type { MediaStorage } from './storage.ts';
import { subtitleFile, type SubtitleSource } from './subtitles.ts';
import { LiveTrack, type RecordingManifest, type StorageOutcome } from './track.ts';
import { WRITE_BOUNDS_SECONDS, type TrackStats } from './track-stats.ts';
import { PlainHistogram } from '../lib/metrics.ts';

/** Blocking-request parameters: LL-HLS `_HLS_msn`/`_HLS_part`/`_HLS_skip`, room state `v`. */
export interface OriginQuery {
  readonly msn?: number | undefined;
  readonly part?: number | undefined;
  /** A playlist delta update (`_HLS_skip=YES`). */
  readonly skip?: boolean | undefined;
  readonly v?: number | undefined;
}

/** One object the origin serves to an edge. */
export interface OriginResponse {
  readonly status: 200;
  readonly contentType: string;
  readonly cacheControl: string;
  readonly body: Uint8Array;
}

export interface OriginDeps {
  readonly config: Readonly<Config['origin']>;
  readonly storage: MediaStorage;
  readonly clock: Clock;
  readonly log: Logger;
  readonly programBitrateBps: number;
  /** Opus pre-skip of the program encoder. */
  readonly preSkip: number;
  readonly roomState?: RoomState;
  /** Live captions: a captioned live Space gets a WebVTT rendition; live index.m3u8 is cached 2 s (captions may turn on). */
  readonly subtitles?: SubtitleSource;
}

/** Whether media storage takes writes: the last write failed, or all is well. */
export type StorageHealth =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string; readonly since: number; readonly spaceId: string; readonly file: string };

export interface RecordingInfo {
  readonly live: boolean;
  readonly durationMs: number;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
const M3U8 = 'application/vnd.apple.mpegurl';
const MP4 = 'audio/mp4';
/** Recording summaries kept in memory (about 100 bytes each). */
const MAX_REMEMBERED = 100_000;
const FILE =
  /^(?:(?:index|media|dvr|subs)\.m3u8|subs\d{1,9}\.vtt|init\.mp4|state\.json|s(\d{1,9})\.m4s|p(\d{1,9})\.(\d{1,3})\.m4s)$/;

/**
 * The origin: turns each Space's program into LL-HLS and a recording, and answers edges. It never
 * sees a listener: edges ask it, once per object, through `OriginClient`.
 */
export class OriginPlane {
  readonly #d: OriginDeps;
  readonly #tracks = new Map<string, LiveTrack>();
  /**
   * What the public views ask of every Space on every read (live? how long?), kept in memory and updated
   * whenever a manifest is written here, so listing Spaces never reads or parses a file. Null: no recording.
   * Ended tracks leave `#tracks` (and their parts the heap): their files answer from then on.
   */
  readonly #info = new Map<string, RecordingInfo | null>();
  /** Recording windows (segments kept) of Spaces that never end, like the demo. */
  readonly #windows = new Map<string, number>();
  #health: StorageHealth = { ok: true };
  /** Media writes that failed since start (segments, manifests, playlists). */
  writeFailures = 0;
  /** Parts cut, segments written and media write times, over every track (for metrics). */
  readonly stats: TrackStats = { parts: 0, segments: 0, writeSeconds: new PlainHistogram(WRITE_BOUNDS_SECONDS) };

  constructor(deps: OriginDeps) {
    this.#d = deps;
  }

  /**
   * Starts (or resumes, after a restart or a crash) the recording of a Space's program. A recording
   * that already ended is never reopened: its files are final.
   */
  attach(spaceId: string, program: ProgramStream): void {
    const previous = this.#tracks.get(spaceId);
    if (previous?.live === true) return;
    const resume = this.#manifest(spaceId);
    if (resume?.ended === true) {
      this.#d.log.warn({ spaceId }, 'not recording: the recording of this Space has already ended');
      return;
    }
    const track = new LiveTrack(
      {
        spaceId,
        storage: this.#d.storage,
        clock: this.#d.clock,
        log: this.#d.log,
        partDurationMs: this.#d.config.partDurationMs,
        partsPerSegment: this.#d.config.partsPerSegment,
        preSkip: this.#d.preSkip,
        onStorage: (outcome) => this.#storageOutcome(outcome),
        stats: this.stats,
      },
      resume,
    );
    track.keepSegments = this.#windows.get(spaceId);
    this.#tracks.set(spaceId, track);
    program.on('frame', (frame) => track.push(frame));
    program.on('end', ({ final }) => (final ? this.#end(spaceId, track) : track.suspend()));
    this.#d.log.info(
      { spaceId, resumedSegments: resume?.segments.length ?? 0, afterCrash: resume !== undefined && resume.suspended !== true },
      resume === undefined ? 'recording started' : 'recording resumed',
    );
  }

  /**
   * Checks, before a Space goes live, that its media can be stored: the init segment is written
   * now. Throws MEDIA_STORAGE_UNAVAILABLE (nothing changes) when it cannot.
   */
  prepare(spaceId: string): void {
    try {
      this.#d.storage.write(spaceId, 'init.mp4', initSegment({ channels: 1, preSkip: this.#d.preSkip }));
    } catch (error) {
      this.#storageOutcome({ ok: false, spaceId, file: 'init.mp4', error });
      throw new AmphiError('MEDIA_STORAGE_UNAVAILABLE', { headers: { 'retry-after': '5' } });
    }
  }

  /**
   * The Space ended. Its track ends with its program; a recording no track holds (its room is
   * gone, e.g. after a crash) is finished here from its manifest, so the replay exists either way.
   * Its room-state document leaves memory.
   */
  finish(spaceId: string): void {
    this.#d.roomState?.forget(spaceId);
    const track = this.#tracks.get(spaceId);
    if (track !== undefined) {
      this.#end(spaceId, track);
      return;
    }
    const manifest = this.#manifest(spaceId);
    if (manifest === undefined || manifest.ended) return;
    try {
      finishRecording(this.#d.storage, spaceId, manifest);
      this.#remember(spaceId, { live: false, durationMs: duration(manifest.segments) });
      this.#d.log.info({ spaceId, segments: manifest.segments.length }, 'recording finished (no room was open)');
    } catch (error) {
      this.#storageOutcome({ ok: false, spaceId, file: 'recording.json', error });
    }
  }

  /**
   * Another media node took the Space over (cluster mode): its track stops without another write and
   * leaves memory; the program's end that follows changes nothing.
   */
  abandon(spaceId: string): void {
    const track = this.#tracks.get(spaceId);
    if (track === undefined) return;
    track.abandon();
    this.#tracks.delete(spaceId);
    this.#info.delete(spaceId);
  }

  /** Keeps only the last `minutes` of a Space's recording (for a Space that never ends, like the demo). */
  keepRecordingWindow(spaceId: string, minutes: number): void {
    const segments = Math.ceil((minutes * 60_000) / (this.#d.config.partDurationMs * this.#d.config.partsPerSegment));
    this.#windows.set(spaceId, segments);
    const track = this.#tracks.get(spaceId);
    if (track !== undefined) track.keepSegments = segments;
  }

  /**
   * Deletes the recordings of Spaces that ended more than `retentionDays` ago (their replays go with
   * them). Returns the Space ids deleted.
   */
  sweepRetention(retentionDays: number): string[] {
    const horizon = this.#d.clock.now() - retentionDays * 86_400_000;
    const deleted: string[] = [];
    for (const spaceId of this.#d.storage.spaces()) {
      if (this.#tracks.get(spaceId)?.live === true) continue;
      const manifest = this.#manifest(spaceId);
      const last = manifest?.segments.at(-1);
      if (manifest?.ended !== true || last === undefined || last.programDateTimeMs + last.durationMs >= horizon) continue;
      this.deleteRecording(spaceId);
      deleted.push(spaceId);
    }
    if (deleted.length > 0) this.#d.log.info({ spaces: deleted.length, retentionDays }, 'recordings past retention deleted');
    return deleted;
  }

  /**
   * Deletes an ended Space's recording (the host deleted the replay, or retention): its files here and,
   * with a bucket, there. A live track is never deleted under its listeners.
   */
  deleteRecording(spaceId: string): void {
    if (this.#tracks.get(spaceId)?.live === true) return;
    this.#d.storage.remove(spaceId);
    this.#tracks.delete(spaceId);
    this.#remember(spaceId, null);
  }

  /** Whether media storage takes writes now. */
  get health(): StorageHealth {
    return this.#health;
  }

  /** Tracks taking frames now. */
  get liveTracks(): number {
    let n = 0;
    for (const track of this.#tracks.values()) if (track.live) n++;
    return n;
  }

  /** Tracks in memory (live or suspended); an ended one is dropped. */
  get tracksHeld(): number {
    return this.#tracks.size;
  }

  /** Live or recorded, and how long, for the public view. */
  recording(spaceId: string): RecordingInfo | undefined {
    const track = this.#tracks.get(spaceId);
    if (track !== undefined) return { live: true, durationMs: 0 };
    let info = this.#info.get(spaceId);
    if (info === undefined) {
      const manifest = this.#manifest(spaceId);
      info = manifest === undefined ? null : { live: !manifest.ended, durationMs: duration(manifest.segments) };
      this.#remember(spaceId, info);
    }
    return info ?? undefined;
  }

  /**
   * Serves one object. Playlists honour blocking reload (`_HLS_msn`, `_HLS_part`); a part that is
   * about to be produced (the preload hint) is held until it exists.
   */
  async get(spaceId: string, file: string, query: OriginQuery): Promise<OriginResponse> {
    const match = FILE.exec(file);
    if (match === null) throw new AmphiError('ROUTE_NOT_FOUND');
    const track = this.#tracks.get(spaceId);
    const timeoutMs = this.#d.config.blockingTimeoutMs;
    if (file === 'state.json') {
      if (this.#d.roomState === undefined) throw new AmphiError('HLS_OBJECT_NOT_FOUND');
      const state = await this.#d.roomState.get(spaceId, query.v, timeoutMs);
      // A held request that timed out unchanged must not be cached: the next `?v=N` has to wait
      // again, or every listener would spin on the cached answer until it expired.
      const unchanged = query.v !== undefined && state.version <= query.v;
      return text(
        `{"version":${state.version},"state":${state.json}}`,
        'application/json',
        unchanged ? 'no-store' : 'public, max-age=1',
      );
    }
    if (file === 'index.m3u8') {
      if (track === undefined && this.recording(spaceId) === undefined) throw new AmphiError('SPACE_NOT_FOUND');
      const subs = track?.live === true ? this.#d.subtitles : undefined;
      const body = multivariantPlaylist(this.#d.programBitrateBps, subs?.subtitles(spaceId) !== undefined);
      return text(body, M3U8, subs === undefined ? 'public, max-age=3600' : 'public, max-age=2');
    }
    if (file.startsWith('subs')) {
      const subs = subtitleFile(track, this.#d.subtitles, spaceId, file, this.#d.config);
      if (subs === undefined) throw new AmphiError('HLS_OBJECT_NOT_FOUND');
      return text(subs.body, subs.contentType, subs.cacheControl);
    }
    if (file === 'init.mp4') return media(track?.init ?? (await this.#stored(spaceId, file)), IMMUTABLE);
    if (file === 'media.m3u8' || file === 'dvr.m3u8') {
      // Only a final playlist is cached long; one that may still grow never is for more than a second.
      if (track === undefined) {
        return text(new TextDecoder().decode(await this.#stored(spaceId, 'media.m3u8')), M3U8, 'public, max-age=3600');
      }
      // media.m3u8 is a sliding window (bounded); dvr.m3u8 lists the whole Space so far (DVR from the start).
      const view = {
        skip: query.skip === true,
        ...(file === 'media.m3u8' ? { windowSegments: this.#d.config.liveWindowSegments } : {}),
      };
      if (query.msn !== undefined) {
        if (track.segmentsAhead(query.msn) > 2) throw new AmphiError('HLS_REQUEST_TOO_FAR_AHEAD');
        if (!(await track.waitFor(query.msn, query.part, timeoutMs)))
          throw new AmphiError('HLS_NOT_YET_AVAILABLE', { headers: { 'retry-after': '1' } });
        // A blocking response names one future state of the playlist: cacheable while it is live.
        return text(track.playlist(view), M3U8, 'public, max-age=6');
      }
      return text(track.playlist(view), M3U8, 'public, max-age=1');
    }
    if (match[1] !== undefined) return media(await this.#stored(spaceId, file), IMMUTABLE);
    const msn = Number(match[2]);
    const index = Number(match[3]);
    if (track === undefined) throw new AmphiError('HLS_OBJECT_NOT_FOUND');
    let data = track.part(msn, index);
    if (data === undefined && track.isUpcomingPart(msn, index)) {
      await track.waitFor(msn, index, timeoutMs);
      data = track.part(msn, index);
    }
    if (data === undefined) throw new AmphiError('HLS_OBJECT_NOT_FOUND');
    return media(data, IMMUTABLE);
  }

  /**
   * Shutdown: every live recording is suspended, not ended (what was produced is flushed and
   * listed; the next process resumes it). Only the end of a Space ends its recording.
   */
  close(): void {
    for (const track of this.#tracks.values()) track.suspend();
    this.#d.roomState?.close(); // held state.json requests are answered now, so the server can drain
  }

  #storageOutcome(outcome: StorageOutcome): void {
    if (outcome.ok) {
      if (!this.#health.ok) this.#d.log.info({ spaceId: outcome.spaceId, file: outcome.file }, 'media storage writes again');
      this.#health = { ok: true };
      return;
    }
    this.writeFailures++;
    const reason = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
    this.#d.log.error({ spaceId: outcome.spaceId, file: outcome.file, err: outcome.error }, 'media write failed');
    this.#health = {
      ok: false,
      reason,
      since: this.#health.ok ? this.#d.clock.now() : this.#health.since,
      spaceId: outcome.spaceId,
      file: outcome.file,
    };
  }

  /** The track's Space ended: its final files are written and its parts leave memory. */
  #end(spaceId: string, track: LiveTrack): void {
    track.end();
    if (this.#tracks.get(spaceId) === track) this.#tracks.delete(spaceId);
    this.#remember(spaceId, { live: false, durationMs: duration(track.segments) });
  }

  #remember(spaceId: string, info: RecordingInfo | null): void {
    // Bounded: the oldest entries go first (a Map iterates in insertion order); they are re-read on demand.
    if (this.#info.size >= MAX_REMEMBERED && !this.#info.has(spaceId)) {
      const oldest = this.#info.keys().next();
      if (oldest.done !== true) this.#info.delete(oldest.value);
    }
    this.#info.set(spaceId, info);
  }

  #manifest(spaceId: string): RecordingManifest | undefined {
    const raw = this.#d.storage.read(spaceId, 'recording.json');
    return raw === undefined ? undefined : (JSON.parse(new TextDecoder().decode(raw)) as RecordingManifest);
  }

  /** A stored file, from local disk or (cluster mode) the bucket. */
  async #stored(spaceId: string, name: string): Promise<Uint8Array> {
    let data: Uint8Array | undefined;
    try {
      data = await this.#d.storage.load(spaceId, name);
    } catch (error) {
      this.#d.log.warn({ spaceId, file: name, err: error }, 'media read failed');
      throw new AmphiError('MEDIA_STORAGE_UNAVAILABLE', { headers: { 'retry-after': '2' } });
    }
    if (data === undefined) throw new AmphiError('HLS_OBJECT_NOT_FOUND');
    return data;
  }
}

function duration(segments: readonly { readonly durationMs: number }[]): number {
  return segments.reduce((n, s) => n + s.durationMs, 0);
}

function text(body: string, contentType: string, cacheControl: string): OriginResponse {
  return { status: 200, contentType, cacheControl, body: new TextEncoder().encode(body) };
}

function media(body: Uint8Array, cacheControl: string): OriginResponse {
  return { status: 200, contentType: MP4, cacheControl, body };
}

/**
 * Finishes a recording no track holds any more (the Space ended while its room was gone, e.g.
 * after a crash): the manifest is marked ended and the final playlist written from it.
 */
export function finishRecording(storage: MediaStorage, spaceId: string, manifest: RecordingManifest): void {
  const ended: RecordingManifest = { ...manifest, ended: true, suspended: false };
  storage.write(spaceId, 'recording.json', JSON.stringify(ended));
  storage.write(
    spaceId,
    'media.m3u8',
    mediaPlaylist({
      partTargetMs: manifest.partTargetMs,
      segmentTargetMs: manifest.segmentTargetMs,
      segments: manifest.segments,
      parts: [],
      current: undefined,
      next: undefined,
      ended: true,
      droppedDiscontinuities: manifest.droppedDiscontinuities,
    }),
  );
}
