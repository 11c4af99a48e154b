/** Taps of the low-pass filter in front of the 3:1 decimation (odd: symmetric around one sample). */
const TAPS = 31;

/** A windowed-sinc low-pass at 7 kHz for 48 kHz input (Blackman window), normalised to unity gain. */
function lowPass(): Float32Array {
  const cutoff = 7000 / 48_000;
  const taps = new Float32Array(TAPS);
  const mid = (TAPS - 1) / 2;
  let sum = 0;
  for (let i = 0; i < TAPS; i++) {
    const x = i - mid;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const window = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (TAPS - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (TAPS - 1));
    taps[i] = sinc * window;
    sum += taps[i]!;
  }
  for (let i = 0; i < TAPS; i++) taps[i]! /= sum;
  return taps;
}

/**
 * 48 kHz mono float (the stage's frames) to 16 kHz mono int16 (what recognisers take): low-pass, keep
 * every third sample, clip. Keeps its filter history between calls, so chunks of any length join up.
 */
export class Downsampler48to16 {
  readonly #taps = lowPass();
  /** The last TAPS-1 input samples, then the new ones. */
  #history = new Float32Array(TAPS - 1);
  /** Where the next kept sample falls in the next input (0, 1 or 2). */
  #phase = 0;

  push(input: Float32Array): Int16Array {
    const buffer = new Float32Array(this.#history.length + input.length);
    buffer.set(this.#history);
    buffer.set(input, this.#history.length);
    const out = new Int16Array(Math.ceil((input.length - this.#phase) / 3));
    let n = 0;
    for (let i = this.#phase; i < input.length; i += 3) {
      // The filter is centred (TAPS-1)/2 samples back: a fixed 0.3 ms delay.
      let acc = 0;
      for (let k = 0; k < TAPS; k++) acc += this.#taps[k]! * buffer[i + k]!;
      out[n++] = Math.max(-32768, Math.min(32767, Math.round(acc * 32768)));
    }
    this.#phase = (this.#phase + 3 - (input.length % 3)) % 3;
    this.#history = buffer.slice(buffer.length - (TAPS - 1));
    return n === out.length ? out : out.slice(0, n);
  }
}
