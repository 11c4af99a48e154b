/**
 * What the control API reads of recordings, implemented by the origin's storage (`origin/download.ts`)
 * and wired by the role: the replay as one file, its chapters, its clips. No imports: the origin and
 * the control plane both name it.
 */
/**
 * An ended Space's recording as one file (`GET /api/spaces/:id/recording.m4a`), made from the stored
 * pieces as it is read. Implemented by the origin (`origin/download.ts`), wired by the role.
 */
export interface RecordingFiles {
  /** The finished recording of a Space, or undefined while it is still recording or when there is none. */
  open(spaceId: string): Promise<RecordingFile | undefined>;
  /**
   * Its chapters by speaker (account ids; times on the recording's timeline; a live one's so far), or
   * undefined. Where the replay has a transcript, each chapter has the first words said in it (`excerpt`).
   */
  chapters(
    spaceId: string,
  ): Promise<readonly { startMs: number; endMs: number; speaker: string; excerpt?: string | undefined }[] | undefined>;
  /**
   * Cuts and stores a clip of the recording (finished, or live: what is recorded so far): `from`..`to`
   * ms on its timeline, or the `last` ms recorded. Undefined when there is no recording; a range outside
   * it throws CLIP_RANGE_INVALID.
   */
  cutClip(spaceId: string, clipId: string, range: ClipRange): Promise<{ startMs: number; endMs: number } | undefined>;
  /**
   * The replay's automatic transcript (from the live captions; times in ms on the recording's
   * timeline), or undefined when the Space was never captioned. Optional: a node may keep none.
   */
  transcript?(spaceId: string): Promise<
    | {
        readonly automatic: true;
        readonly lines: readonly {
          readonly startMs: number;
          readonly endMs: number;
          readonly text: string;
          readonly words: readonly { readonly word: string; readonly startMs: number; readonly endMs: number }[];
        }[];
      }
    | undefined
  >;
  /** A stored clip's `.m4a`, or undefined when it is gone (the replay deleted, or past retention). */
  clip(spaceId: string, clipId: string): Promise<Uint8Array | undefined>;
}

export type ClipRange = { readonly fromMs: number; readonly toMs: number } | { readonly lastMs: number };

export interface RecordingFile {
  readonly size: number;
  /** A strong validator: it changes whenever the bytes could. Quoted, ready for the ETag header. */
  readonly etag: string;
  /** How much audio the file holds, in ms (the listed segments it includes). */
  readonly durationMs: number;
  /**
   * The bytes from `start` to `end` inclusive (0 <= start <= end < size), in order, read piece by
   * piece as the consumer pulls: never the whole file in memory. Throws (mid-stream) when the
   * stored pieces changed under it.
   */
  read(start: number, end: number): AsyncIterable<Uint8Array>;
}
