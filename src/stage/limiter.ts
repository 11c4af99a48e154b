import { SAMPLE_RATE, type Frame } from './audio.ts';

/**
 * A peak limiter for the mix, so several loud speakers are turned down, never clipped. Works in
 * place, one 20 ms frame at a time, with no added latency: the whole frame is its look-ahead.
 *
 * The frame's gain target is `ceiling / framePeak` (or 1), measured on the input alone. It used to be
 * measured after the current gain, so over a steady loud tone the target read 1, the gain released
 * within the frame and the hard clamp flattened about one sample in ten. Measured on the input, a
 * steady tone gets the same target every frame and a steady gain: it is scaled, not clipped.
 *
 * Attack: the gain ramps down to the target before the first sample that the current gain would push
 * past the ceiling, so it is in place before the loud part starts and the samples before it are only
 * turned down less. Release: back towards 1 sample by sample, never above the frame's target. The
 * hard clamp at the ceiling remains the last guard against rounding.
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
    let framePeak = 0;
    for (let i = 0; i < frame.length; i++) {
      const a = Math.abs(frame[i]!);
      if (a > framePeak) framePeak = a;
    }
    const target = framePeak > this.#ceiling ? this.#ceiling / framePeak : 1;
    // At rest (unity gain, nothing over the ceiling) every sample would be multiplied by 1 and
    // clamped to no effect: most frames of a conversation, left as they are.
    if (target === 1 && this.#gain === 1) return frame;
    if (target < this.#gain) this.#attack(frame, target);
    else this.#release(frame, target);
    return frame;
  }

  /** The current gain, as applied to the last sample processed. */
  get gain(): number {
    return this.#gain;
  }

  #attack(frame: Frame, target: number): void {
    const from = this.#gain;
    // The first sample the current gain would push past the ceiling: the gain must be down by then.
    let due = 0;
    while (due < frame.length && Math.abs(frame[due]!) * from <= this.#ceiling) due++;
    for (let i = 0; i < frame.length; i++) {
      // A raised-cosine ramp over the samples before `due`: every gain on it lies between `from`
      // (which keeps those quieter samples under the ceiling) and `target` (which keeps the rest).
      const t = i >= due ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * (i + 1)) / (due + 1));
      this.#gain = from + (target - from) * t;
      frame[i] = this.#clamp(frame[i]! * this.#gain);
    }
  }

  #release(frame: Frame, target: number): void {
    let i = 0;
    for (; i < frame.length && this.#gain < target; i++) {
      this.#gain = Math.min(target, 1 - (1 - this.#gain) * this.#releasePerSample);
      frame[i] = this.#clamp(frame[i]! * this.#gain);
    }
    // At the frame's target the gain stays there (the release would pass it; the target caps it):
    // the rest of the frame is one multiplication a sample.
    const gain = this.#gain;
    for (; i < frame.length; i++) frame[i] = this.#clamp(frame[i]! * gain);
  }

  #clamp(v: number): number {
    return v > this.#ceiling ? this.#ceiling : v < -this.#ceiling ? -this.#ceiling : v;
  }
}
