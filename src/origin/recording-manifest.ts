import type { SegmentInfo } from './playlist.ts';

/** What is kept on disk beside the segments, so a restart loses nothing already listed. */
export interface RecordingManifest {
  readonly version: 1;
  readonly partTargetMs: number;
  readonly segmentTargetMs: number;
  readonly segments: SegmentInfo[];
  readonly ended: boolean;
  /**
   * True when the process stopped cleanly mid-Space (what was produced is listed). A manifest of a
   * live Space without it was left by a crash: the segment in progress then was lost.
   */
  readonly suspended?: boolean;
  /** Discontinuities among segments deleted by a recording window (`keepSegments`). */
  readonly droppedDiscontinuities?: number;
  /** Where a continuing recording resumes its fragment numbering and media timeline. */
  readonly nextFragment: number;
  readonly nextDecodeTime: number;
}
