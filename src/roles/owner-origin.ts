import { leaseOwner } from '../cluster/lease.ts';
import type { OriginClient } from '../edge/edge.ts';
import { HttpOriginClient } from '../edge/origin-client.ts';
import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import type { OriginQuery, OriginResponse } from '../origin/plane.ts';
import type { ClusterLink } from './cluster.ts';

/** How long an edge trusts the owner it read for a Space before asking Redis again. */
const OWNER_TTL_MS = 1000;
/** How long a request waits through a failover (the owner dead, its lease not yet taken over): lease 5 s. */
const FAILOVER_WAIT_MS = 9000;
/** A Space held this recently may get a new owner soon: worth waiting for. */
const OWNED_LATELY_MS = 15_000;
/** What a new owner may not have yet while it opens the Space (it took the lease, its track is not up). */
const OPENED_FILES = new Set(['index.m3u8', 'media.m3u8', 'dvr.m3u8', 'init.mp4']);

/**
 * An edge's origin in a cluster with several media nodes: each Space is asked of the media node that
 * holds its lease (read from Redis, the node's URL from the fleet registry), remembered for a second,
 * and forgotten at once when that node fails to answer, so that after a failover the next request goes
 * to the new owner. A Space nobody holds (ended, or never produced) is asked of `fallbackUrl`.
 *
 * During a failover (a Space held within `OWNED_LATELY_MS` whose owner does not answer, or that nobody
 * holds yet) a request is held and asked again of whoever holds the Space then, for up to
 * `FAILOVER_WAIT_MS`: a player sees one slow answer, not an error it may give up on. An ended Space's
 * objects are never held: nobody holds it, nobody will, and the bucket behind this client answers them.
 *
 * A new owner has the lease a moment before it has the Space's track (it reads the manifest from the
 * bucket first): while a Space's owner changed or failed within `OWNED_LATELY_MS`, its playlists and
 * init segment answered "not found" are asked again too (players such as ffmpeg give up on a 404).
 *
 * Redis away (a Sentinel failover, an outage): a Space keeps going to the owner last read for it, so
 * listeners keep hearing; only a Space never read goes to `fallbackUrl`.
 */
export class OwnerOrigin implements OriginClient {
  readonly #cluster: Pick<ClusterLink, 'redis' | 'fleet'>;
  readonly #fallbackUrl: string;
  readonly #signer: TokenSigner;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #clients = new Map<string, OriginClient>();
  readonly #owners = new Map<string, { readonly url: string; readonly at: number }>();
  /** When each Space was last seen held by a media node. */
  readonly #ownedAt = new Map<string, number>();
  /** When each Space's owner last changed or failed to answer. */
  readonly #movedAt = new Map<string, number>();

  readonly #connect: (url: string) => OriginClient;

  /** `connect`: the client for one media node (default: HTTP, requests signed with `signer`). */
  constructor(
    cluster: Pick<ClusterLink, 'redis' | 'fleet'>,
    fallbackUrl: string,
    signer: TokenSigner,
    clock: Clock,
    log: Logger,
    connect?: (url: string) => OriginClient,
  ) {
    this.#cluster = cluster;
    this.#fallbackUrl = fallbackUrl;
    this.#signer = signer;
    this.#clock = clock;
    this.#log = log;
    this.#connect = connect ?? ((url) => new HttpOriginClient(url, this.#signer, this.#clock));
  }

  async get(spaceId: string, file: string, query: OriginQuery): Promise<OriginResponse> {
    const deadline = this.#clock.now() + FAILOVER_WAIT_MS;
    let failure: unknown = new AmphiError('SERVICE_UNAVAILABLE', { headers: { 'retry-after': '1' } });
    for (let delay = 250; ; delay = Math.min(1000, delay * 2)) {
      const url = await this.#ownerUrl(spaceId);
      if (url !== undefined) {
        try {
          return await this.#client(url).get(spaceId, file, query);
        } catch (error) {
          if (!(error instanceof AmphiError)) throw error;
          if (error.code === 'SERVICE_UNAVAILABLE') {
            this.#owners.delete(spaceId);
            this.#movedAt.set(spaceId, this.#clock.now());
            if (!this.#ownedLately(spaceId)) throw error;
          } else if (!(error.status === 404 && OPENED_FILES.has(file) && this.#movedLately(spaceId))) throw error;
          failure = error;
        }
      }
      if (this.#clock.now() + delay > deadline) throw failure;
      await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, delay));
    }
  }

  /** The holder's URL; undefined while a Space held lately has no holder (its new one is on the way). */
  async #ownerUrl(spaceId: string): Promise<string | undefined> {
    const now = this.#clock.now();
    const known = this.#owners.get(spaceId);
    if (known !== undefined && now - known.at < OWNER_TTL_MS) return known.url;
    let url: string | undefined = this.#fallbackUrl;
    try {
      const owner = await leaseOwner(this.#cluster.redis, spaceId);
      if (owner !== undefined) this.#ownedAt.set(spaceId, now);
      const held = owner === undefined ? undefined : this.#cluster.fleet.node(owner.nodeId)?.url;
      if (held !== undefined && known !== undefined && held !== known.url) this.#movedAt.set(spaceId, now);
      url = held ?? (this.#ownedLately(spaceId) ? undefined : this.#fallbackUrl);
    } catch (error) {
      // The owner last read is the best guess (it is renewing its lease unless it died): not the fallback.
      url = known?.url ?? this.#fallbackUrl;
      this.#log.warn({ spaceId, err: error, asking: url }, 'edge: the Space owner could not be read; asking the one last known');
    }
    if (url === undefined) return undefined;
    if (this.#owners.size > 10_000) this.#owners.clear(); // bounded: at worst a second of extra lookups
    if (this.#ownedAt.size > 10_000) this.#ownedAt.clear();
    if (this.#movedAt.size > 10_000) this.#movedAt.clear();
    this.#owners.set(spaceId, { url, at: now });
    return url;
  }

  #movedLately(spaceId: string): boolean {
    const at = this.#movedAt.get(spaceId);
    return at !== undefined && this.#clock.now() - at <= OWNED_LATELY_MS;
  }

  #ownedLately(spaceId: string): boolean {
    const at = this.#ownedAt.get(spaceId);
    return at !== undefined && this.#clock.now() - at <= OWNED_LATELY_MS;
  }

  #client(url: string): OriginClient {
    let client = this.#clients.get(url);
    if (client === undefined) {
      client = this.#connect(url);
      this.#clients.set(url, client);
    }
    return client;
  }
}
