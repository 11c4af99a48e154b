import type { OnListenerError } from '../lib/typed-emitter.ts';
import type { Clock, TimerHandle } from '../lib/clock.ts';
import { PlainHistogram } from '../lib/metrics.ts';
import type { Logger } from '../lib/logger.ts';
import { FRAME_MS, FRAME_SAMPLES } from './audio.ts';
import { OpusDecoderMono, OpusEncoderMono } from './codec.ts';
import { Mixer, type SourceLevel } from './mixer.ts';
import { ProgramStream } from './program.ts';
import type { SpeakerSession } from './session.ts';

/** Told each mixed program frame (48 kHz mono float, 20 ms, a copy it may keep) and its sequence number. */
export type ProgramPcmListener = (frame: Float32Array<ArrayBuffer>, sequence: number) => void;

/** What the room needs of a session; `SpeakerSession` (werift) in production, a fake in unit tests. */
export type StageSession = Pick<SpeakerSession, 'id' | 'receivesAudio' | 'on' | 'send' | 'close'>;

/** The program is the record and the replay: 'audio' mode at complexity 5 (64 us per frame). */
export function programEncoder(bitrateBps: number): OpusEncoderMono {
  return new OpusEncoderMono({ bitrateBps, complexity: 5, application: 'audio' });
}

/** A tick is due every 20 ms: lag past one frame is audible as a late program. */
export const TICK_LAG_BOUNDS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.5, 1];
/** One 20 ms Opus frame takes tens of microseconds to encode (42 us measured at complexity 5). */
export const ENCODE_BOUNDS_SECONDS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01];

export interface RoomOptions {
  readonly spaceId: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly programBitrateBps: number;
  readonly returnBitrateBps: number;
  /** Told about program subscribers that throw (a failed recording write): logged and counted. */
  readonly onListenerError: OnListenerError;
  /** Called once, after the room has closed everything it owns. */
  readonly onClosed: (spaceId: string) => void;
}

interface Speaker {
  readonly accountId: string;
  readonly session: StageSession;
  readonly decoder: OpusDecoderMono;
  readonly encoder: OpusEncoderMono | undefined;
}

/**
 * One Space on the stage: its speakers' sessions, the mixer, and the program. A 20 ms tick on the
 * injected clock (drift-corrected) mixes whatever each speaker has buffered, encodes the program and
 * each speaker's mix-minus, and emits the program frame. The program starts with the room and runs
 * without gaps until `close()`, whoever connects, drops, reconnects or is muted in between.
 */
export class StageRoom {
  readonly spaceId: string;
  readonly program: ProgramStream;
  readonly #o: RoomOptions;
  /**
   * Tick lag and Opus encode time (program and mix-minus), in seconds, counted in plain numbers (50
   * ticks a second per room): `stageMetrics` sums every room's at scrape time.
   */
  readonly timings = { tickLag: new PlainHistogram(TICK_LAG_BOUNDS_SECONDS), encode: new PlainHistogram(ENCODE_BOUNDS_SECONDS) };
  readonly #mixer = new Mixer();
  readonly #programEncoder: OpusEncoderMono;
  readonly #speakers = new Map<string, Speaker>();
  readonly #startedAtMs: number;
  readonly #pcmListeners = new Set<ProgramPcmListener>();
  #sequence = 0;
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(options: RoomOptions) {
    this.#o = options;
    this.spaceId = options.spaceId;
    this.program = new ProgramStream(options.onListenerError);
    this.#programEncoder = programEncoder(options.programBitrateBps);
    this.#startedAtMs = options.clock.now();
    this.#schedule();
  }

  /**
   * Puts a connected session on the mix for `accountId`, replacing an earlier one (a reconnect):
   * the old session closes, the speaker's place in the mix and mute state stay.
   */
  attach(accountId: string, session: StageSession, muted: boolean): void {
    if (this.#closed) {
      session.close('the Space has ended');
      return;
    }
    const previous = this.#speakers.get(accountId);
    if (previous !== undefined) previous.session.close('replaced by a new connection');
    this.#mixer.addSource(accountId, muted);
    const speaker: Speaker = {
      accountId,
      session,
      decoder: new OpusDecoderMono(),
      // The return path is for conversation: CELT-only low-delay mode at low complexity is 4x cheaper
      // to encode than libopus' VoIP mode (42 vs 170 us per frame, measured) and adds less delay.
      encoder: session.receivesAudio
        ? new OpusEncoderMono({ bitrateBps: this.#o.returnBitrateBps, complexity: 1, application: 'restricted_lowdelay' })
        : undefined,
    };
    this.#speakers.set(accountId, speaker);
    session.on('audio', ({ rtpTimestamp, payload }) => {
      const frame = speaker.decoder.decode(payload);
      if (frame !== undefined) this.#mixer.push(accountId, rtpTimestamp, frame);
    });
    session.on('closed', ({ reason }) => {
      if (this.#speakers.get(accountId)?.session !== session) return; // already replaced
      this.#speakers.delete(accountId);
      this.#mixer.removeSource(accountId);
      this.#o.log.info({ spaceId: this.spaceId, accountId, reason }, 'speaker disconnected');
    });
    this.#o.log.info({ spaceId: this.spaceId, accountId, sessionId: session.id }, 'speaker connected');
  }

  /** Takes effect on the next tick (20 ms). */
  setMuted(accountId: string, muted: boolean): void {
    this.#mixer.setMuted(accountId, muted);
  }

  /** Tears a speaker's session down (moved to the audience, removed). */
  kick(accountId: string, reason: string): void {
    this.#speakers.get(accountId)?.session.close(reason);
  }

  session(accountId: string): StageSession | undefined {
    return this.#speakers.get(accountId)?.session;
  }

  get speakerCount(): number {
    return this.#speakers.size;
  }

  levels(): SourceLevel[] {
    return this.#mixer.levels();
  }

  /** Accounts with a connected session on this stage now. */
  connected(): string[] {
    return [...this.#speakers.keys()];
  }

  /**
   * Listens to the program before it is encoded (captions). Costs nothing while nobody listens; a
   * listener must be quick (it runs in the tick) and one that throws is reported, never breaks the tick.
   */
  onProgramPcm(listener: ProgramPcmListener): () => void {
    this.#pcmListeners.add(listener);
    return () => this.#pcmListeners.delete(listener);
  }

  get frames(): number {
    return this.#sequence;
  }

  /**
   * Closes every session, stops the program and tells the owner. Idempotent. `ended`: the Space
   * ended; otherwise the process is stopping, and speakers reconnect to the next one.
   */
  close(why: 'ended' | 'shutdown' = 'ended'): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    const reason = why === 'ended' ? 'the Space has ended' : 'the server is restarting; reconnect';
    for (const speaker of this.#speakers.values()) speaker.session.close(reason);
    this.#speakers.clear();
    this.program.emit('end', { spaceId: this.spaceId, frames: this.#sequence, final: why === 'ended' });
    this.#o.log.info({ spaceId: this.spaceId, frames: this.#sequence, why }, 'stage room closed');
    this.#o.onClosed(this.spaceId);
  }

  /** Runs the ticks that are due and schedules the next one on the frame grid (no drift). */
  #schedule(): void {
    const dueAt = this.#startedAtMs + (this.#sequence + 1) * FRAME_MS;
    this.#timer = this.#o.clock.setTimeout(
      () => {
        // If the process stalled, catch up frame by frame so the timeline never skips.
        let guard = 0;
        while (!this.#closed && this.#o.clock.now() >= this.#startedAtMs + (this.#sequence + 1) * FRAME_MS && guard++ < 50) {
          // How late this tick runs after its place on the frame grid (a stalled event loop shows here).
          this.timings.tickLag.observe((this.#o.clock.now() - (this.#startedAtMs + (this.#sequence + 1) * FRAME_MS)) / 1000);
          this.#tick();
        }
        if (!this.#closed) this.#schedule();
      },
      Math.max(0, dueAt - this.#o.clock.now()),
    );
  }

  #tick(): void {
    const { program, mixMinus, loudest } = this.#mixer.tick();
    const sequence = this.#sequence++;
    const { encode } = this.timings;
    for (const speaker of this.#speakers.values()) {
      const minus = mixMinus.get(speaker.accountId);
      if (speaker.encoder !== undefined && minus !== undefined) {
        const started = performance.now();
        const packet = speaker.encoder.encode(minus);
        encode.observe((performance.now() - started) / 1000);
        speaker.session.send(packet, FRAME_SAMPLES);
      }
    }
    const started = performance.now();
    const data = this.#programEncoder.encode(program);
    encode.observe((performance.now() - started) / 1000);
    // The mixer reuses its buffers: each listener gets its own copy.
    for (const listener of this.#pcmListeners) {
      try {
        listener(program.slice(), sequence);
      } catch (error) {
        this.#o.onListenerError('pcm', error);
      }
    }
    this.program.emit('frame', {
      spaceId: this.spaceId,
      sequence,
      ptsSamples: sequence * FRAME_SAMPLES,
      durationSamples: FRAME_SAMPLES,
      wallClockMs: this.#startedAtMs + sequence * FRAME_MS,
      data,
      speaker: loudest,
    });
  }
}
