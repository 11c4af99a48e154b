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

/**
 * An edge's origin in a cluster with several media nodes: each Space is asked of the media node that
 * holds its lease (read from Redis, the node's URL from the fleet registry), remembered for a second,
 * and forgotten at once when that node fails to answer, so that after a failover the next request goes
 * to the new owner. A Space nobody holds (ended, or between owners) is asked of `fallbackUrl`.
 */
export class OwnerOrigin implements OriginClient {
  readonly #cluster: ClusterLink;
  readonly #fallbackUrl: string;
  readonly #signer: TokenSigner;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #clients = new Map<string, HttpOriginClient>();
  readonly #owners = new Map<string, { readonly url: string; readonly at: number }>();

  constructor(cluster: ClusterLink, fallbackUrl: string, signer: TokenSigner, clock: Clock, log: Logger) {
    this.#cluster = cluster;
    this.#fallbackUrl = fallbackUrl;
    this.#signer = signer;
    this.#clock = clock;
    this.#log = log;
  }

  async get(spaceId: string, file: string, query: OriginQuery): Promise<OriginResponse> {
    const url = await this.#ownerUrl(spaceId);
    try {
      return await this.#client(url).get(spaceId, file, query);
    } catch (error) {
      if (error instanceof AmphiError && error.code === 'SERVICE_UNAVAILABLE') this.#owners.delete(spaceId);
      throw error;
    }
  }

  async #ownerUrl(spaceId: string): Promise<string> {
    const now = this.#clock.now();
    const known = this.#owners.get(spaceId);
    if (known !== undefined && now - known.at < OWNER_TTL_MS) return known.url;
    let url = this.#fallbackUrl;
    try {
      const owner = await leaseOwner(this.#cluster.redis, spaceId);
      url = (owner === undefined ? undefined : this.#cluster.fleet.node(owner.nodeId)?.url) ?? this.#fallbackUrl;
    } catch (error) {
      this.#log.warn({ spaceId, err: error }, 'edge: the Space owner could not be read; asking the configured origin');
    }
    if (this.#owners.size > 10_000) this.#owners.clear(); // bounded: at worst a second of extra lookups
    this.#owners.set(spaceId, { url, at: now });
    return url;
  }

  #client(url: string): HttpOriginClient {
    let client = this.#clients.get(url);
    if (client === undefined) {
      client = new HttpOriginClient(url, this.#signer, this.#clock);
      this.#clients.set(url, client);
    }
    return client;
  }
}
