import { concat, fragment, initSegment, type FragmentSample } from './cmaf.ts';
import { segmentUri, type SegmentInfo } from './playlist.ts';
import type { MediaStorage } from './storage.ts';
import type { RecordingManifest } from './track.ts';

/** A clip's length, in ms: long enough to say something, short enough to share. */
export const CLIP_MIN_MS = 5000;
export const CLIP_MAX_MS = 60_000;
const SAMPLES_PER_MS = 48;

/** The Opus packets of one stored segment (our own fragments: moof with tfdt v1 and trun 0x301, then mdat). */
export function samplesOf(segment: Uint8Array): FragmentSample[] {
  const view = new DataView(segment.buffer, segment.byteOffset, segment.byteLength);
  const out: FragmentSample[] = [];
  for (let at = 0; at + 8 <= segment.length;) {
    const size = view.getUint32(at);
    if (size < 8 || at + size > segment.length) throw new Error('a stored segment is malformed');
    if (boxType(segment, at) === 'moof') out.push(...moofSamples(segment, view, at, size));
    at += size;
  }
  return out;
}

function boxType(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
}

/** The samples a moof's trun lists, read from the mdat at its data offset (relative to the moof). */
function moofSamples(bytes: Uint8Array, view: DataView, moof: number, moofSize: number): FragmentSample[] {
  const samples: FragmentSample[] = [];
  // moof > traf > trun: walk the children of each container in turn.
  const walk = (from: number, to: number, visit: (type: string, at: number, size: number) => void) => {
    for (let at = from; at + 8 <= to;) {
      const size = view.getUint32(at);
      if (size < 8 || at + size > to) throw new Error('a stored segment is malformed');
      visit(boxType(bytes, at), at, size);
      at += size;
    }
  };
  walk(moof + 8, moof + moofSize, (type, traf, trafSize) => {
    if (type !== 'traf') return;
    walk(traf + 8, traf + trafSize, (child, trun) => {
      if (child !== 'trun') return;
      const flags = view.getUint32(trun + 8) & 0xffffff;
      if (flags !== 0x000301) throw new Error(`a stored segment has a trun this reader does not know (${flags})`);
      const count = view.getUint32(trun + 12);
      let data = moof + view.getInt32(trun + 16);
      if (trun + 20 + count * 8 > bytes.length) throw new Error('a stored segment is malformed');
      for (let i = 0; i < count; i++) {
        const duration = view.getUint32(trun + 20 + i * 8);
        const length = view.getUint32(trun + 24 + i * 8);
        if (data + length > bytes.length) throw new Error('a stored segment is malformed');
        samples.push({ duration, data: bytes.subarray(data, data + length) });
        data += length;
      }
    });
  });
  return samples;
}

/** How much of a recording is on its timeline now (listed segments, gaps included), in ms. */
export function recordedMs(segments: readonly SegmentInfo[]): number {
  return segments.reduce((n, s) => n + s.durationMs, 0);
}

/**
 * A clip of a recording as one `.m4a` (Opus in fragmented MP4): the frames whose start falls in
 * [`fromMs`, `toMs`) on the recording's timeline (the replay's, gaps included: a clip across an outage
 * is shorter by it), cut at the 20 ms frame, in one fragment from media time 0. Reads only the
 * segments it needs. Undefined when the recording has no frame there.
 */
export async function cutClip(
  storage: MediaStorage,
  spaceId: string,
  manifest: RecordingManifest,
  fromMs: number,
  toMs: number,
  preSkip: number,
): Promise<{ bytes: Uint8Array; durationMs: number } | undefined> {
  const frames: FragmentSample[] = [];
  let t = 0;
  for (const segment of manifest.segments) {
    const start = t;
    t += segment.durationMs;
    if (t <= fromMs || start >= toMs || segment.gap === true) continue;
    const stored = await storage.load(spaceId, segmentUri(segment.msn));
    if (stored === undefined) continue; // removed by an operator: like a gap
    let at = start * SAMPLES_PER_MS;
    for (const sample of samplesOf(stored)) {
      if (at >= fromMs * SAMPLES_PER_MS && at < toMs * SAMPLES_PER_MS) frames.push(sample);
      at += sample.duration;
    }
  }
  if (frames.length === 0) return undefined;
  const bytes = concat([initSegment({ channels: 1, preSkip }), fragment(1, 0, frames)]);
  return { bytes, durationMs: frames.reduce((n, f) => n + f.duration, 0) / SAMPLES_PER_MS };
}
