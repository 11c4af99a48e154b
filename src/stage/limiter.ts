import { FRAME_SAMPLES, SAMPLE_RATE, type Frame } from './audio.ts';

/**
 * A peak limiter for the mix: gain drops at once when a sample would pass the ceiling and recovers
 * smoothly (release), so several loud speakers never clip. A hard clamp at the ceiling is the last
 * guard. Works in place, one frame at a time.
 */
export class Limiter {
  readonly #ceiling: number;
  readonly #releasePerSample: number;
  #gain = 1;

  constructor(options: { ceiling?: number; releaseMs?: number } = {}) {
    // About -2 dBFS: Opus can overshoot the input peak by ~1 dB when decoded, and the program must never clip.
    this.#ceiling = options.ceiling ?? 0.8;
    const releaseSamples = ((options.releaseMs ?? 150) / 1000) * SAMPLE_RATE;
    this.#releasePerSample = Math.exp(Math.log(0.01) / releaseSamples);
  }

  process(frame: Frame): Frame {
    // Per-frame target from the frame's peak: one step of look-ahead costs no latency at 20 ms.
    let framePeak = 0;
    for (let i = 0; i < FRAME_SAMPLES; i++) framePeak = Math.max(framePeak, Math.abs(frame[i]!));
    const target = framePeak * this.#gain > this.#ceiling ? this.#ceiling / framePeak : 1;
    for (let i = 0; i < frame.length; i++) {
      if (target < this.#gain) this.#gain = target;
      else this.#gain = 1 - (1 - this.#gain) * this.#releasePerSample;
      if (this.#gain > target) this.#gain = target;
      const v = frame[i]! * this.#gain;
      frame[i] = v > this.#ceiling ? this.#ceiling : v < -this.#ceiling ? -this.#ceiling : v;
    }
    return frame;
  }

  get gain(): number {
    return this.#gain;
  }
}
