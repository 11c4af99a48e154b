/**
 * Audio constants and small DSP helpers shared by the mixer, the codec wrapper and tests.
 * The stage works in 48 kHz mono float frames of 20 ms (960 samples), the Opus native rate.
 */
export const SAMPLE_RATE = 48_000;
export const FRAME_MS = 20;
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;

export type Frame = Float32Array;

export function silentFrame(): Frame {
  return new Float32Array(FRAME_SAMPLES);
}

/** Root-mean-square level of a frame in dBFS (-Infinity for digital silence). */
export function rmsDbfs(frame: Frame): number {
  let sum = 0;
  for (const s of frame) sum += s * s;
  return 10 * Math.log10(sum / frame.length);
}

/** One frame of a sine tone, `startSample` samples into it (so consecutive frames join up). */
export function toneFrame(frequencyHz: number, amplitude: number, startSample: number): Frame {
  const frame = new Float32Array(FRAME_SAMPLES);
  for (let i = 0; i < FRAME_SAMPLES; i++)
    frame[i] = amplitude * Math.sin((2 * Math.PI * frequencyHz * (startSample + i)) / SAMPLE_RATE);
  return frame;
}

export function peak(frame: Frame): number {
  let p = 0;
  for (const s of frame) p = Math.max(p, Math.abs(s));
  return p;
}

/** Interleaved int16 PCM (1 or 2 channels) to a mono float frame. */
export function int16ToMono(pcm: Int16Array, channels: 1 | 2): Frame {
  const n = pcm.length / channels;
  const out = new Float32Array(n);
  if (channels === 1) for (let i = 0; i < n; i++) out[i] = pcm[i]! / 32768;
  else for (let i = 0; i < n; i++) out[i] = (pcm[2 * i]! + pcm[2 * i + 1]!) / 65536;
  return out;
}

/** A mono float frame to interleaved int16 PCM with `channels` channels (clamped). */
export function monoToInt16(frame: Frame, channels: 1 | 2): Int16Array {
  return monoToInt16Into(frame, channels, new Int16Array(frame.length * channels));
}

/** `monoToInt16` into `out` (frame.length x channels samples), which it returns: no allocation per frame. */
export function monoToInt16Into(frame: Frame, channels: 1 | 2, out: Int16Array): Int16Array {
  for (let i = 0; i < frame.length; i++) {
    const r = Math.round(frame[i]! * 32767);
    const v = r > 32767 ? 32767 : r < -32768 ? -32768 : r;
    if (channels === 1) out[i] = v;
    else out[2 * i] = out[2 * i + 1] = v;
  }
  return out;
}

/**
 * Share of a signal's energy at `frequencyHz`, between 0 and 1: the energy-weighted mean of a
 * Goertzel measurement over 100 ms blocks (10 Hz resolution), so a dropped or repeated frame
 * between blocks does not smear the spectrum. Used to check which tones a decoded stream contains.
 */
export function toneShare(samples: Float32Array, frequencyHz: number, sampleRate = SAMPLE_RATE): number {
  const block = Math.min(sampleRate / 10, samples.length);
  if (block === 0) return 0;
  let weighted = 0;
  let total = 0;
  for (let start = 0; start + block <= samples.length; start += block) {
    const part = samples.subarray(start, start + block);
    let energy = 0;
    for (const x of part) energy += x * x;
    weighted += goertzelShare(part, frequencyHz, sampleRate) * energy;
    total += energy;
  }
  return total === 0 ? 0 : weighted / total;
}

function goertzelShare(samples: Float32Array, frequencyHz: number, sampleRate: number): number {
  const k = 2 * Math.cos((2 * Math.PI * frequencyHz) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (const x of samples) {
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
    energy += x * x;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  return energy === 0 ? 0 : Math.min(1, (2 * power) / (samples.length * energy));
}
