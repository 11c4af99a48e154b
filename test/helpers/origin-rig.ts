import { pino } from 'pino';
import { ManualClock } from '../../src/lib/clock.ts';
import { OriginPlane } from '../../src/origin/plane.ts';
import { ProgramStream } from '../../src/stage/program.ts';
import { rethrow } from './events.ts';
import { MemoryMediaStorage } from './media-storage.ts';
import { originConfig } from './origin-config.ts';
import { programFrame } from './program.ts';

/**
 * Origins over one in-memory storage on one test clock: `make()` is a process (call it again for a
 * restart), `play(origin, space, ms)` attaches a program and feeds it `ms` of 20 ms frames on the clock.
 */
export function originRig(startMs = Date.UTC(2026, 10, 29, 20)) {
  const clock = new ManualClock(startMs);
  const storage = new MemoryMediaStorage();
  const make = () =>
    new OriginPlane({
      config: originConfig(),
      storage,
      clock,
      log: pino({ level: 'silent' }),
      programBitrateBps: 48_000,
      preSkip: 312,
    });
  let sequence = 0;
  const play = (origin: OriginPlane, spaceId: string, ms: number): ProgramStream => {
    const program = new ProgramStream(rethrow);
    origin.attach(spaceId, program);
    for (let t = 0; t < ms; t += 20) {
      clock.advance(20);
      program.emit('frame', programFrame(spaceId, sequence++, clock.now() - 20));
    }
    return program;
  };
  return { clock, storage, make, play };
}
