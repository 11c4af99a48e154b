import type { ProgramFrame } from '../../src/stage/program.ts';

/** Program frame number `sequence` of a Space (20 ms, 960 samples at 48 kHz), made at `wallClockMs`. */
export function programFrame(spaceId: string, sequence: number, wallClockMs: number): ProgramFrame {
  return {
    spaceId,
    sequence,
    ptsSamples: sequence * 960,
    durationSamples: 960,
    wallClockMs,
    data: new Uint8Array([0xf8, sequence & 0xff]),
  };
}
