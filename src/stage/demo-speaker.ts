import { readFileSync } from 'node:fs';
import type { Clock, TimerHandle } from '../lib/clock.ts';
import { TypedEmitter, type OnListenerError } from '../lib/typed-emitter.ts';
import { FRAME_MS, FRAME_SAMPLES } from './audio.ts';
import type { StageSession } from './room.ts';
import type { SessionEvents } from './session.ts';

/** Reads a clip of 20 ms Opus frames (2-byte big-endian length, then the packet, repeated). */
export function readFrames(path: string | URL): Buffer[] {
  const data = readFileSync(path);
  const frames: Buffer[] = [];
  for (let at = 0; at + 2 <= data.length;) {
    const length = data.readUInt16BE(at);
    frames.push(data.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return frames;
}

/**
 * The built-in test speaker of the demo Space: a session that needs no network, playing a recorded
 * clip in a loop into the room, paced by the clock like a real speaker's packets.
 */
export class DemoSpeaker extends TypedEmitter<SessionEvents> implements StageSession {
  readonly id = 'ss_demo0000000';
  readonly receivesAudio = false;
  readonly #frames: readonly Buffer[];
  readonly #clock: Clock;
  readonly #startedAt: number;
  #sent = 0;
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(frames: readonly Buffer[], clock: Clock, onListenerError: OnListenerError) {
    super(onListenerError);
    this.#frames = frames;
    this.#clock = clock;
    this.#startedAt = clock.now();
    this.#schedule();
  }

  send(): void {
    // The demo speaker hears nothing.
  }

  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.emit('closed', { reason });
  }

  #schedule(): void {
    const due = this.#startedAt + (this.#sent + 1) * FRAME_MS;
    this.#timer = this.#clock.setTimeout(
      () => {
        while (!this.#closed && this.#clock.now() >= this.#startedAt + (this.#sent + 1) * FRAME_MS) {
          const payload = this.#frames[this.#sent % this.#frames.length]!;
          this.emit('audio', { rtpTimestamp: (this.#sent * FRAME_SAMPLES) >>> 0, payload });
          this.#sent++;
        }
        if (!this.#closed) this.#schedule();
      },
      Math.max(0, due - this.#clock.now()),
    );
  }
}
