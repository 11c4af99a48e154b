import { toneShare } from '../../src/stage/audio.ts';

/**
 * Seconds of `pcm` (mono 48 kHz) that are audible (louder than -40 dBFS RMS) and mostly a
 * `frequencyHz` tone (`share` of their energy, default 0.8), counted in 100 ms blocks. With `share`
 * 0, every audible second counts.
 */
export function toneSeconds(pcm: Float32Array, frequencyHz = 440, sampleRate = 48_000, share = 0.8): number {
  const block = sampleRate / 10;
  let blocks = 0;
  for (let start = 0; start + block <= pcm.length; start += block) {
    const part = pcm.subarray(start, start + block);
    let energy = 0;
    for (const x of part) energy += x * x;
    // Louder than -40 dBFS RMS, and mostly the tone.
    if (energy / block > 1e-4 && (share === 0 || toneShare(part, frequencyHz, sampleRate) > share)) blocks++;
  }
  return blocks / 10;
}

/** Seconds of tone in each second of `pcm`, e.g. "1.0 1.0 0.4 0.0 ...": where the tone is, for failure messages. */
export function toneProfile(pcm: Float32Array, frequencyHz = 440, sampleRate = 48_000): string {
  const seconds: string[] = [];
  for (let at = 0; at < pcm.length; at += sampleRate)
    seconds.push(toneSeconds(pcm.subarray(at, at + sampleRate), frequencyHz, sampleRate).toFixed(1));
  return seconds.join(' ');
}
