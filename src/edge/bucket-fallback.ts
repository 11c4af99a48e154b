import { AmphiError } from '../errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { ObjectStore } from '../origin/bucket.ts';
import type { OriginQuery, OriginResponse } from '../origin/plane.ts';
import type { OriginClient } from './edge.ts';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const MEDIA = /^(?:init\.mp4|s\d{1,9}\.m4s)$/;
const PLAYLIST = /^(?:media|dvr)\.m3u8$/;

/**
 * An edge's origin with the recordings' bucket behind it (cluster mode, `AMPHI_BUCKET_URL` on the edge):
 * while the origin cannot answer (its media node is down, or being replaced), what the bucket holds
 * for good is served from it. Segments and init segments are written once, so any copy is the right
 * one; a playlist only once its Space has ended (the bucket has `media.m3u8` only then, and it never
 * changes). Live playlists and parts still need the origin: nothing else knows them.
 */
export class BucketFallbackOrigin implements OriginClient {
  readonly #origin: OriginClient;
  readonly #bucket: ObjectStore;
  readonly #log: Logger;
  /** Objects served from the bucket because the origin could not answer. */
  served = 0;

  constructor(origin: OriginClient, bucket: ObjectStore, log: Logger) {
    this.#origin = origin;
    this.#bucket = bucket;
    this.#log = log;
  }

  async get(spaceId: string, file: string, query: OriginQuery): Promise<OriginResponse> {
    try {
      return await this.#origin.get(spaceId, file, query);
    } catch (error) {
      if (!(error instanceof AmphiError) || error.code !== 'SERVICE_UNAVAILABLE') throw error;
      const stored = await this.#fromBucket(spaceId, file).catch((bucketError: unknown) => {
        this.#log.warn({ spaceId, file, err: bucketError }, 'origin and bucket both unreachable');
        return undefined;
      });
      if (stored === undefined) throw error;
      this.served++;
      return stored;
    }
  }

  async #fromBucket(spaceId: string, file: string): Promise<OriginResponse | undefined> {
    if (MEDIA.test(file)) {
      const body = await this.#bucket.get(`${spaceId}/${file}`);
      return body === undefined ? undefined : { status: 200, contentType: 'audio/mp4', cacheControl: IMMUTABLE, body };
    }
    if (PLAYLIST.test(file)) {
      // The final playlist lists the whole Space: it answers for the DVR view as well.
      const body = await this.#bucket.get(`${spaceId}/media.m3u8`);
      return body === undefined
        ? undefined
        : { status: 200, contentType: 'application/vnd.apple.mpegurl', cacheControl: 'public, max-age=3600', body };
    }
    return undefined;
  }
}
