import { TypedEmitter } from '../lib/typed-emitter.ts';

/** One encoded 20 ms frame of a Space's program, on a continuous timeline. */
export interface ProgramFrame {
  readonly spaceId: string;
  /** Frame number since the program started: 0, 1, 2, ... with no gaps. */
  readonly sequence: number;
  /** Presentation time in 48 kHz samples since the program started (sequence x 960). */
  readonly ptsSamples: number;
  readonly durationSamples: number;
  /** Wall-clock time of the tick that made it, ms since the epoch (for EXT-X-PROGRAM-DATE-TIME). */
  readonly wallClockMs: number;
  /** One Opus packet. */
  readonly data: Uint8Array;
  /** The loudest speaker heard in it (an account id), or null; absent where unknown. Chapters come from it. */
  readonly speaker?: string | null;
}

export interface ProgramEvents extends Record<string, unknown> {
  frame: ProgramFrame;
  /** `final`: the Space ended (the recording is finished); otherwise the process is stopping and a restart resumes it. */
  end: { spaceId: string; frames: number; final: boolean };
}

/** The typed stream of program frames the origin packages. */
export class ProgramStream extends TypedEmitter<ProgramEvents> {}
