import { pino } from 'pino';
import type { Clock } from '../../src/lib/clock.ts';
import type { MediaStorage } from '../../src/origin/storage.ts';
import type { TrackOptions } from '../../src/origin/track.ts';
import type { Config } from '../../src/config/schema.ts';

/** The origin's settings for tests: 500 ms parts, 2 s segments, a 60 s live window, recordings kept. */
export function originConfig(overrides: Partial<Config['origin']> = {}): Config['origin'] {
  return {
    partDurationMs: 500,
    partsPerSegment: 4,
    blockingTimeoutMs: 6000,
    liveWindowSegments: 30,
    retentionDays: null,
    ...overrides,
  };
}

/** A track's options for tests: 500 ms parts, 2 s segments, a silent log, storage outcomes ignored unless given. */
export function trackOptions(
  spaceId: string,
  storage: MediaStorage,
  clock: Clock,
  overrides: Partial<TrackOptions> = {},
): TrackOptions {
  return {
    spaceId,
    storage,
    clock,
    log: pino({ level: 'silent' }),
    partDurationMs: 500,
    partsPerSegment: 4,
    preSkip: 312,
    onStorage: () => {},
    ...overrides,
  };
}
