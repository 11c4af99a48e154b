import { pino } from 'pino';
import type { Config } from '../../src/config/schema.ts';
import type { ManualClock } from '../../src/lib/clock.ts';
import { OriginPlane } from '../../src/origin/plane.ts';
import type { MediaStorage } from '../../src/origin/storage.ts';
import { FRAME_SAMPLES, toneFrame } from '../../src/stage/audio.ts';
import { ProgramStream } from '../../src/stage/program.ts';
import { programEncoder } from '../../src/stage/room.ts';
import { rethrow } from './events.ts';

/**
 * An origin recording one Space's program, fed a 440 Hz tone encoded with the program's own Opus
 * encoder on the test clock (a minute of audio is made in well under a second). `play(seconds)` adds
 * more; `end()` ends the program (the final recording).
 */
export function toneOrigin(o: {
  readonly config: Readonly<Config['origin']>;
  readonly storage: MediaStorage;
  readonly clock: ManualClock;
  readonly spaceId: string;
  readonly bitrateBps: number;
}) {
  const encoder = programEncoder(o.bitrateBps);
  const origin = new OriginPlane({
    config: o.config,
    storage: o.storage,
    clock: o.clock,
    log: pino({ level: 'silent' }),
    programBitrateBps: o.bitrateBps,
    preSkip: encoder.lookahead,
  });
  const program = new ProgramStream(rethrow);
  origin.attach(o.spaceId, program);
  let sequence = 0;
  return {
    origin,
    /** The Opus pre-skip, in 48 kHz samples (what a decoder drops from the start). */
    preSkip: encoder.lookahead,
    /** Plays `seconds` more of a tone (440 Hz unless asked). */
    play: (seconds: number, frequencyHz = 440): void => {
      for (const end = sequence + (seconds * 1000) / 20; sequence < end; sequence++) {
        const ptsSamples = sequence * FRAME_SAMPLES;
        const data = encoder.encode(toneFrame(frequencyHz, 0.5, ptsSamples));
        program.emit('frame', {
          spaceId: o.spaceId,
          sequence,
          ptsSamples,
          durationSamples: FRAME_SAMPLES,
          wallClockMs: o.clock.now(),
          data,
        });
        o.clock.advance(20);
      }
    },
    end: (): void => {
      program.emit('end', { spaceId: o.spaceId, frames: sequence, final: true });
    },
  };
}
