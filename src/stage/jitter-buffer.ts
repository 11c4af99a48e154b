import { FRAME_SAMPLES, type Frame } from './audio.ts';

/**
 * Orders one speaker's decoded frames by RTP timestamp and hands out exactly one frame per mixer
 * tick. It starts playing once `targetFrames` are buffered, fills gaps with silence, and drops the
 * oldest frames when it holds more than `maxFrames` (the speaker's clock runs fast, or a burst after
 * a stall), so added delay stays bounded.
 */
export class JitterBuffer {
  readonly #targetFrames: number;
  readonly #maxFrames: number;
  #frames = new Map<number, Frame>();
  #next: number | undefined;
  #playing = false;

  constructor(options: { targetFrames?: number; maxFrames?: number } = {}) {
    this.#targetFrames = options.targetFrames ?? 2;
    this.#maxFrames = options.maxFrames ?? 10;
  }

  push(rtpTimestamp: number, frame: Frame): void {
    const ts = rtpTimestamp >>> 0;
    if (this.#next !== undefined && this.#playing && seqBefore(ts, this.#next)) return; // too late
    this.#frames.set(ts, frame);
    this.#next ??= ts;
    if (this.#next !== undefined && seqBefore(ts, this.#next) && !this.#playing) this.#next = ts;
    while (this.#frames.size > this.#maxFrames) this.#dropOldest();
  }

  /** The next frame, or undefined while buffering or after the speaker went quiet. */
  pull(): Frame | undefined {
    if (this.#next === undefined) return undefined;
    if (!this.#playing) {
      if (this.#frames.size < this.#targetFrames) return undefined;
      this.#playing = true;
    }
    if (this.#frames.size === 0) {
      // Underrun: wait for the buffer to refill before playing again.
      this.#playing = false;
      this.#next = undefined;
      return undefined;
    }
    let frame = this.#frames.get(this.#next);
    if (frame === undefined) {
      // A gap of a frame or two is packet loss (play silence in its place); a bigger jump is a new
      // timeline (the speaker's encoder restarted): resynchronise to the oldest frame held.
      const oldest = this.#oldest()!;
      if (((oldest - this.#next) | 0) > 2 * FRAME_SAMPLES) {
        this.#next = oldest;
        frame = this.#frames.get(oldest);
      }
    }
    this.#frames.delete(this.#next);
    this.#next = (this.#next + FRAME_SAMPLES) >>> 0;
    return frame ?? new Float32Array(FRAME_SAMPLES);
  }

  get depth(): number {
    return this.#frames.size;
  }

  #oldest(): number | undefined {
    let oldest: number | undefined;
    for (const ts of this.#frames.keys()) if (oldest === undefined || seqBefore(ts, oldest)) oldest = ts;
    return oldest;
  }

  #dropOldest(): void {
    const oldest = this.#oldest();
    if (oldest === undefined) return;
    this.#frames.delete(oldest);
    if (this.#next !== undefined && !seqBefore(oldest, this.#next)) this.#next = (oldest + FRAME_SAMPLES) >>> 0;
  }
}

/** RTP timestamp order with 32-bit wrap-around. */
function seqBefore(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
