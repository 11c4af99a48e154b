import { createHash } from 'node:crypto';
import type { ClipRange, RecordingFile, RecordingFiles } from '../control/http/types.ts';
import { AmphiError } from '../errors.ts';
import type { Logger } from '../lib/logger.ts';
import { chaptersOf, withExcerpts, type Chapter } from './chapters.ts';
import { CLIP_MAX_MS, CLIP_MIN_MS, cutClip, recordedMs } from './clips.ts';
import { segmentUri } from './playlist.ts';
import type { MediaStorage } from './storage.ts';
import type { RecordingManifest } from './track.ts';
import { loadTranscript, type Transcript } from './transcript.ts';

/** One stored file in the download, where it starts in it and how long it is. */
interface Piece {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
}

interface Layout {
  readonly pieces: readonly Piece[];
  readonly size: number;
  readonly etag: string;
  readonly durationMs: number;
}

export interface DownloadOptions {
  readonly storage: MediaStorage;
  readonly log: Logger;
  /** Layouts of finished recordings kept (a long one is a few tens of KB): 64 by default. */
  readonly maxCached?: number;
  /** The program encoder's priming samples, for a clip's init segment (libopus's 312 by default). */
  readonly preSkip?: number;
}

const SPACE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * A finished recording as one fragmented MP4 file: `init.mp4`, then every listed segment that is not
 * a gap, in order. Each segment is a run of CMAF fragments (moof + mdat) on one continuous media
 * timeline, so the concatenation is the file players expect (a gap only skips media time).
 *
 * Nothing is copied: offsets come from the pieces' sizes (a `stat` each, not a read; with a bucket, a
 * segment no longer on local disk is fetched once to measure it), and a byte
 * range reads only the pieces it overlaps, one at a time as the socket drains. A finished recording
 * never changes, so its layout is computed once and kept (bounded, least recently used first).
 */
export class RecordingDownloads implements RecordingFiles {
  readonly #storage: MediaStorage;
  readonly #log: Logger;
  readonly #maxCached: number;
  readonly #layouts = new Map<string, Layout>();
  readonly #preSkip: number;

  constructor(options: DownloadOptions) {
    this.#preSkip = options.preSkip ?? 312;
    this.#storage = options.storage;
    this.#log = options.log;
    this.#maxCached = options.maxCached ?? 64;
  }

  async open(spaceId: string): Promise<RecordingFile | undefined> {
    if (!SPACE_ID.test(spaceId)) return undefined;
    const layout = await this.#layout(spaceId);
    if (layout === undefined) return undefined;
    return {
      size: layout.size,
      etag: layout.etag,
      durationMs: layout.durationMs,
      read: (start, end) =>
        readPieces(this.#storage, spaceId, layout.pieces, start, end, () => {
          // Cut off, not patched: the response ends short. The next download measures again.
          this.#layouts.delete(spaceId);
          this.#log.warn({ spaceId }, 'a recording piece changed during a download: the download was cut off');
        }),
    };
  }

  async cutClip(spaceId: string, clipId: string, range: ClipRange): Promise<{ startMs: number; endMs: number } | undefined> {
    if (!SPACE_ID.test(spaceId) || !SPACE_ID.test(clipId)) return undefined;
    const manifest = await this.#manifest(spaceId);
    if (manifest === undefined) return undefined;
    const recorded = recordedMs(manifest.segments);
    const asked = 'lastMs' in range ? [Math.max(0, recorded - range.lastMs), recorded] : [range.fromMs, range.toMs];
    // On the 20 ms frame grid: whole ms for the database, and what the cut can honour anyway.
    const [fromMs, toMs] = asked.map((ms) => Math.round(ms / FRAME_MS) * FRAME_MS) as [number, number];
    if (fromMs < 0 || toMs > recorded + 1 || toMs - fromMs < CLIP_MIN_MS || toMs - fromMs > CLIP_MAX_MS) {
      throw new AmphiError('CLIP_RANGE_INVALID', { details: { recordedSeconds: Math.floor(recorded / 1000) } });
    }
    const clip = await cutClip(this.#storage, spaceId, manifest, fromMs, toMs, this.#preSkip);
    // A range that is mostly an outage (a gap) holds too little to be a clip.
    if (clip === undefined || clip.durationMs < CLIP_MIN_MS)
      throw new AmphiError('CLIP_RANGE_INVALID', { details: { recordedSeconds: Math.floor(recorded / 1000) } });
    this.#storage.create(spaceId, clipFile(clipId), clip.bytes);
    return { startMs: fromMs, endMs: fromMs + clip.durationMs };
  }

  clip(spaceId: string, clipId: string): Promise<Uint8Array | undefined> {
    if (!SPACE_ID.test(spaceId) || !SPACE_ID.test(clipId)) return Promise.resolve(undefined);
    return this.#storage.load(spaceId, clipFile(clipId));
  }

  /** Chapters by speaker; where the replay has a transcript, each with the first words said in it. */
  async chapters(spaceId: string): Promise<Chapter[] | undefined> {
    if (!SPACE_ID.test(spaceId)) return undefined;
    const manifest = await this.#manifest(spaceId); // finished, or what a live Space recorded so far
    if (manifest === undefined) return undefined;
    const chapters = chaptersOf(manifest.segments, manifest.partTargetMs);
    if (chapters.length === 0 || !manifest.ended) return chapters; // a transcript is written at the end
    const transcript = await loadTranscript(this.#storage, spaceId).catch((error: unknown) => {
      this.#log.warn({ spaceId, err: error }, 'transcript unreadable: chapters without excerpts');
      return undefined;
    });
    return transcript === undefined ? chapters : withExcerpts(chapters, transcript.lines);
  }

  transcript(spaceId: string): Promise<Transcript | undefined> {
    return SPACE_ID.test(spaceId) ? loadTranscript(this.#storage, spaceId) : Promise.resolve(undefined);
  }

  /** The manifest of a finished recording; undefined when there is none (yet). */
  async #finished(spaceId: string): Promise<RecordingManifest | undefined> {
    const manifest = await this.#manifest(spaceId);
    return manifest?.ended === true ? manifest : undefined;
  }

  /** A recording's manifest, finished or still recording. */
  async #manifest(spaceId: string): Promise<RecordingManifest | undefined> {
    const raw = await this.#storage.load(spaceId, 'recording.json');
    return raw === undefined ? undefined : (JSON.parse(new TextDecoder().decode(raw)) as RecordingManifest);
  }

  async #layout(spaceId: string): Promise<Layout | undefined> {
    const cached = this.#layouts.get(spaceId);
    if (cached !== undefined) {
      this.#layouts.delete(spaceId); // re-inserted last: the Map's order is least recently used first
      this.#layouts.set(spaceId, cached);
      return cached;
    }
    const layout = await this.#measure(spaceId);
    // Only a finished recording is kept: one still live has no layout yet and may have one later.
    if (layout === undefined) return undefined;
    if (this.#layouts.size >= this.#maxCached) this.#layouts.delete(this.#layouts.keys().next().value!);
    this.#layouts.set(spaceId, layout);
    return layout;
  }

  /** Where each piece of a finished recording goes in the file; undefined when there is none (yet). */
  async #measure(spaceId: string): Promise<Layout | undefined> {
    const manifest = await this.#finished(spaceId);
    if (manifest === undefined) return undefined;
    const initSize = await this.#storage.stat(spaceId, 'init.mp4');
    if (initSize === undefined) {
      this.#log.warn({ spaceId }, 'recording has no init segment: no download');
      return undefined;
    }
    const pieces: Piece[] = [{ name: 'init.mp4', offset: 0, size: initSize }];
    let size = initSize;
    let durationMs = 0;
    for (const segment of manifest.segments) {
      if (segment.gap === true) continue;
      const name = segmentUri(segment.msn);
      const bytes = await this.#storage.stat(spaceId, name);
      if (bytes === undefined) {
        // Listed, so once written: an operator removed it. Skipped like a gap, said once per layout.
        this.#log.warn({ spaceId, file: name }, 'a listed segment is missing: the download skips it');
        continue;
      }
      pieces.push({ name, offset: size, size: bytes });
      size += bytes;
      durationMs += segment.durationMs;
    }
    if (pieces.length === 1) return undefined;
    const etag = `"${createHash('sha1')
      .update(pieces.map((p) => `${p.name}:${p.size}`).join(','))
      .digest('base64url')
      .slice(0, 22)}"`;
    return { pieces, size, etag, durationMs };
  }
}

/** Bytes `start`..`end` (inclusive) of the pieces laid end to end, a piece at a time. */
async function* readPieces(
  storage: MediaStorage,
  spaceId: string,
  pieces: readonly Piece[],
  start: number,
  end: number,
  onChanged: () => void,
): AsyncGenerator<Uint8Array> {
  for (let i = pieceAt(pieces, start); i < pieces.length && pieces[i]!.offset <= end; i++) {
    const piece = pieces[i]!;
    const data = await storage.load(spaceId, piece.name);
    if (data === undefined || data.length !== piece.size) {
      onChanged();
      throw new Error(`recording piece ${spaceId}/${piece.name} changed while the download was read`);
    }
    yield data.subarray(Math.max(0, start - piece.offset), Math.min(piece.size, end - piece.offset + 1));
  }
}

/** The index of the piece holding byte `at` (binary search over the offsets). */
function pieceAt(pieces: readonly { readonly offset: number }[], at: number): number {
  let low = 0;
  let high = pieces.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (pieces[mid]!.offset <= at) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** Opus frames are 20 ms: clips are cut on their grid. */
const FRAME_MS = 20;

/** Where a clip's file is kept: beside the recording it was cut from (so it goes with it). */
function clipFile(clipId: string): string {
  return `clip-${clipId}.m4a`;
}
