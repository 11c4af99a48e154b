/** The WHIP tone publisher the benches use, shared so tests and benches publish the same way. */
export { publishTone, type TonePublisher } from '../../bench/lib/whip-tone.ts';

/** Concatenates frames into one signal for spectral checks. */
export function concat(frames: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(frames.reduce((n, f) => n + f.length, 0));
  let offset = 0;
  for (const f of frames) {
    out.set(f, offset);
    offset += f.length;
  }
  return out;
}
