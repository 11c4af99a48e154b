import { AmphiError, rateLimited } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import { newId } from '../lib/ids.ts';
import type { Logger } from '../lib/logger.ts';
import type { Limiter } from '../lib/token-bucket.ts';
import type { Account, ClipRecord, SpaceRecord, Store } from '../storage/store.ts';
import type { Credentials } from './credentials.ts';
import type { ClipRange, RecordingFiles } from './recording-files.ts';
import type { Spaces } from './spaces.ts';

export interface ClipsOptions {
  readonly store: Store;
  readonly spaces: Spaces;
  readonly credentials: Credentials;
  readonly clock: Clock;
  readonly log: Logger;
  /** Clips made per account (a clip is a file kept with its recording). */
  readonly limiter: Limiter;
}

/**
 * Clips: 5 to 60 s of a replay, or of a live Space's recent past, cut at the 20 ms frame into a file
 * of their own (kept beside the recording, so they go with it), with a page to share. Whoever may
 * listen to the Space (the replay, or live) may clip it; the row says who did.
 */
export class Clips {
  readonly #o: ClipsOptions;

  constructor(options: ClipsOptions) {
    this.#o = options;
  }

  async create(actor: Account, spaceId: string, range: ClipRange, files: RecordingFiles | undefined): Promise<ClipRecord> {
    await this.#o.credentials.recordedAccess(actor, spaceId);
    const taken = await this.#o.limiter.take(actor.id);
    if (!taken.ok) throw rateLimited(taken.retryAfterMs);
    const id = newId('cl');
    const cut = await files?.cutClip(spaceId, id, range);
    if (cut === undefined) throw new AmphiError('RECORDING_NOT_AVAILABLE');
    const clip = { id, spaceId, accountId: actor.id, ...cut, createdAt: this.#o.clock.now() };
    await this.#o.store.createClip(clip);
    this.#o.log.info({ clipId: id, spaceId, startMs: cut.startMs, endMs: cut.endMs }, 'clip made');
    return clip;
  }

  /**
   * A clip and its Space, for a caller who may hear that Space's recording (the same rules as the
   * replay: sign-in-only Spaces, bans, a deleted replay).
   */
  async get(actor: Account | undefined, clipId: string): Promise<{ clip: ClipRecord; space: SpaceRecord; hostHandle: string }> {
    const clip = await this.#o.store.getClip(clipId);
    if (clip === undefined) throw new AmphiError('CLIP_NOT_FOUND');
    await this.#o.credentials.recordedAccess(actor, clip.spaceId);
    const snap = await this.#o.spaces.snapshot(clip.spaceId);
    return { clip, space: snap.space, hostHandle: snap.hostHandle };
  }
}
