import type { Logger } from '../lib/logger.ts';
import type { Store } from '../storage/store.ts';
import type { TranscriptHit } from '../storage/transcript-store.ts';

/** Hits per page of a transcript search. */
export const TRANSCRIPT_PAGE = 20;

/**
 * Replays' transcripts in the database, for search: a transcript written beside a recording (by the
 * media node, when a captioned Space ends) is indexed here, line by line.
 */
export class TranscriptIndex {
  readonly #store: Store;
  readonly #log: Logger;

  constructor(store: Store, log: Logger) {
    this.#store = store;
    this.#log = log;
  }

  /** Replaces the Space's indexed lines; a failure is logged (the transcript file stays: only search misses it). */
  async index(spaceId: string, lines: readonly { startMs: number; endMs: number; text: string }[]): Promise<void> {
    try {
      await this.#store.inSpaceTransaction(spaceId, (tx) => tx.community().saveTranscript(spaceId, lines));
      this.#log.info({ spaceId, lines: lines.length }, 'transcript indexed');
    } catch (error) {
      this.#log.error({ spaceId, err: error }, 'transcript not indexed: search will not find it');
    }
  }
}

/** A page of lines containing `phrase`: public replays, or (`hostId`) that host's own. */
export async function searchTranscripts(
  store: Store,
  phrase: string,
  hostId: string | undefined,
  offset: number,
): Promise<{ hits: TranscriptHit[]; nextOffset: number | null }> {
  const found = await store.community().searchTranscripts({ phrase, hostId, limit: TRANSCRIPT_PAGE + 1, offset });
  return { hits: found.slice(0, TRANSCRIPT_PAGE), nextOffset: found.length > TRANSCRIPT_PAGE ? offset + TRANSCRIPT_PAGE : null };
}
