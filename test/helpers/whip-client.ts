import { OpusDecoderMono } from '../../src/stage/codec.ts';
import type { StagePlane } from '../../src/stage/plane.ts';

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

/** A Space's program decoded from now on: 20 ms frames pushed to `pcm` as the stage makes them; `off` stops. */
export function decodedProgram(stage: StagePlane, spaceId: string): { pcm: Float32Array[]; off: () => void } {
  const decoder = new OpusDecoderMono();
  const pcm: Float32Array[] = [];
  const off = stage.openRoom(spaceId).program.on('frame', (f) => {
    const frame = decoder.decode(f.data);
    if (frame !== undefined) pcm.push(frame);
  });
  return { pcm, off };
}
