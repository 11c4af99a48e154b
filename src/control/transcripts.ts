import type { Logger } from '../lib/logger.ts';
import type { Store } from '../storage/store.ts';
import type { TranscriptHit, TranscriptSearch } from '../storage/transcript-store.ts';

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

  /**
   * Removes the lines of Spaces whose recordings retention deleted (the retention sweep). A failure is
   * logged: search hides lines of Spaces past retention anyway (`searchTranscripts`' `endedAfter`).
   */
  async forget(spaceIds: readonly string[]): Promise<void> {
    for (const spaceId of spaceIds) {
      try {
        await this.#store.community().saveTranscript(spaceId, []);
      } catch (error) {
        this.#log.error({ spaceId, err: error }, 'transcript lines of an expired recording not removed');
      }
    }
    this.#log.info({ spaces: spaceIds.length }, 'transcript lines of expired recordings removed');
  }
}

/**
 * A page of lines containing `phrase`: public replays, or (`hostId`) that host's own; with `endedAfter`
 * (ms), only Spaces that ended since (retention deletes the older recordings: their lines never show);
 * with `viewerId`, none of the Spaces whose replay refuses that account (removed, or blocked by the host).
 */
export async function searchTranscripts(
  store: Store,
  query: Pick<TranscriptSearch, 'phrase' | 'hostId' | 'offset' | 'endedAfter' | 'viewerId'>,
): Promise<{ hits: TranscriptHit[]; nextOffset: number | null }> {
  const { offset } = query;
  const search = { ...query, limit: TRANSCRIPT_PAGE + 1 };
  const found = await store.community().searchTranscripts(search);
  return { hits: found.slice(0, TRANSCRIPT_PAGE), nextOffset: found.length > TRANSCRIPT_PAGE ? offset + TRANSCRIPT_PAGE : null };
}
