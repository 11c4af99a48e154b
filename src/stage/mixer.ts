import { FRAME_SAMPLES, rmsDbfs, type Frame } from './audio.ts';
import { JitterBuffer } from './jitter-buffer.ts';
import { Limiter } from './limiter.ts';

/** What one mixer tick produced: the program frame, each source's mix-minus, and levels. */
export interface MixResult {
  /** Everyone who is not muted, limited. */
  readonly program: Frame;
  /**
   * Per source: everyone except that source (what its speaker should hear), limited. The map and its
   * frames are the mixer's own, reused every tick: read or encode them before the next `tick()`.
   */
  readonly mixMinus: ReadonlyMap<string, Frame>;
  /** The loudest source heard speaking now (not muted), or null: who the program is of, for chapters. */
  readonly loudest: string | null;
}

export interface SourceLevel {
  readonly id: string;
  /** Short-term level in dBFS, floored at -100. */
  readonly levelDbfs: number;
  readonly speaking: boolean;
}

export interface MixerOptions {
  /** Level above which a source counts as speaking. */
  readonly speakingThresholdDbfs?: number;
  /** How long a source stays "speaking" after its level falls (hysteresis). */
  readonly speakingHoldMs?: number;
  readonly jitterTargetFrames?: number;
}

interface Source {
  readonly buffer: JitterBuffer;
  readonly limiter: Limiter;
  /** This source's mix-minus, rewritten each tick (no allocation per frame). */
  readonly minus: Float32Array;
  /** What it put in the mix this tick, if anything. */
  audible: Frame | undefined;
  muted: boolean;
  levelDbfs: number;
  heldMs: number;
}

const FLOOR_DBFS = -100;

/**
 * Mixes a Space's speakers, one 20 ms tick at a time. It never waits for anyone: a source with no
 * frame ready contributes silence, so the program's timeline is continuous whoever joins, leaves,
 * reconnects or is muted. Pure and clock-free: the room calls `tick()` on its clock.
 */
export class Mixer {
  readonly #sources = new Map<string, Source>();
  readonly #mixMinus = new Map<string, Frame>();
  readonly #programLimiter = new Limiter();
  readonly #threshold: number;
  readonly #holdMs: number;
  readonly #jitterTarget: number;

  constructor(options: MixerOptions = {}) {
    this.#threshold = options.speakingThresholdDbfs ?? -45;
    this.#holdMs = options.speakingHoldMs ?? 400;
    this.#jitterTarget = options.jitterTargetFrames ?? 2;
  }

  /** Adds a source, or resets its buffer when it reconnects (keeping its mute state). */
  addSource(id: string, muted = false): void {
    const existing = this.#sources.get(id);
    this.#sources.set(id, {
      buffer: new JitterBuffer({ targetFrames: this.#jitterTarget }),
      limiter: existing?.limiter ?? new Limiter(),
      minus: existing?.minus ?? new Float32Array(FRAME_SAMPLES),
      audible: undefined,
      muted: existing?.muted ?? muted,
      levelDbfs: FLOOR_DBFS,
      heldMs: 0,
    });
  }

  removeSource(id: string): void {
    this.#sources.delete(id);
  }

  hasSource(id: string): boolean {
    return this.#sources.has(id);
  }

  setMuted(id: string, muted: boolean): void {
    const source = this.#sources.get(id);
    if (source !== undefined) source.muted = muted;
  }

  push(id: string, rtpTimestamp: number, frame: Frame): void {
    this.#sources.get(id)?.buffer.push(rtpTimestamp, frame);
  }

  tick(): MixResult {
    const sum = new Float32Array(FRAME_SAMPLES);
    for (const source of this.#sources.values()) {
      const frame = source.buffer.pull();
      // A muted speaker's frames are still pulled (so their buffer stays current) but never mixed.
      const audible = frame !== undefined && !source.muted ? frame : undefined;
      source.audible = audible;
      this.#updateLevel(source, audible);
      if (audible !== undefined) for (let i = 0; i < FRAME_SAMPLES; i++) sum[i]! += audible[i]!;
    }
    const mixMinus = this.#mixMinus;
    mixMinus.clear();
    for (const [id, source] of this.#sources) {
      const { minus, audible } = source;
      if (audible === undefined) minus.set(sum);
      else for (let i = 0; i < FRAME_SAMPLES; i++) minus[i] = sum[i]! - audible[i]!;
      mixMinus.set(id, source.limiter.process(minus));
    }
    // Silence goes through the limiter too, so its gain recovers during a pause (DTX speakers send
    // nothing then) and the first word after it is not held down.
    const program = this.#programLimiter.process(sum);
    return { program, mixMinus, loudest: this.#loudest() };
  }

  levels(): SourceLevel[] {
    return [...this.#sources].map(([id, s]) => ({ id, levelDbfs: Math.round(s.levelDbfs), speaking: s.heldMs > 0 }));
  }

  get size(): number {
    return this.#sources.size;
  }

  #loudest(): string | null {
    let loudest: string | null = null;
    let level = Number.NEGATIVE_INFINITY;
    for (const [id, s] of this.#sources) {
      if (s.muted || s.heldMs <= 0 || s.levelDbfs <= level) continue;
      loudest = id;
      level = s.levelDbfs;
    }
    return loudest;
  }

  #updateLevel(source: Source, frame: Frame | undefined): void {
    const level = frame === undefined ? FLOOR_DBFS : Math.max(FLOOR_DBFS, rmsDbfs(frame));
    // Fast attack, slower decay, so the indicator does not flicker between words.
    source.levelDbfs = level > source.levelDbfs ? level : source.levelDbfs * 0.9 + level * 0.1;
    if (level >= this.#threshold) source.heldMs = this.#holdMs;
    else source.heldMs = Math.max(0, source.heldMs - 20);
  }
}
