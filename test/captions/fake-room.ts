import type { CaptionSource } from '../../src/captions/captions.ts';
import type { ProgramPcmListener } from '../../src/stage/room.ts';

/** A stage room as captions see it: PCM listeners only. */
export class FakeRoom implements CaptionSource {
  readonly listeners = new Set<ProgramPcmListener>();
  readonly spaceId: string;
  constructor(spaceId: string) {
    this.spaceId = spaceId;
  }
  onProgramPcm(listener: ProgramPcmListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
