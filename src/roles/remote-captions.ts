import { leaseOwner } from '../cluster/lease.ts';
import type { CaptionsToggle } from '../control/http/captions-routes.ts';
import { AmphiError, errorCatalogue, retryLater, type ErrorCode } from '../errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { ClusterLink } from './cluster.ts';

/** How long a control node waits for the media node's answer. */
const ANSWER_MS = 5000;

/**
 * The captions toggle on a control node (cluster mode): the Space's captions run on the media node
 * holding its lease, so the request is made there (its API, at the URL it reports to the fleet) with
 * the caller's own session, and that node's answer is the answer, refusals included
 * (`CAPTIONS_BUSY` when it captions `captions.maxSpaces` already). It keeps the choice in the
 * database, so the node that takes the Space over next applies it too. A Space nobody holds (a
 * failover under way) or a media node that does not answer: 503 `SERVICE_UNAVAILABLE`, retry shortly.
 */
export function remoteCaptions(cluster: Pick<ClusterLink, 'redis' | 'fleet'>, log: Logger): CaptionsToggle {
  return {
    async set(spaceId, on, token) {
      const owner = await leaseOwner(cluster.redis, spaceId).catch((error: unknown) => {
        log.warn({ spaceId, err: error }, 'captions: the Space owner could not be read');
        return undefined;
      });
      const url = owner === undefined ? undefined : cluster.fleet.node(owner.nodeId)?.url;
      if (url === undefined || url === '') throw retryLater('SERVICE_UNAVAILABLE', 2000);
      let res: Response;
      try {
        res = await fetch(`${url}/api/spaces/${encodeURIComponent(spaceId)}/captions`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ on }),
          signal: AbortSignal.timeout(ANSWER_MS),
        });
      } catch (error) {
        log.warn({ spaceId, node: owner?.nodeId, err: error }, 'captions: the media node did not answer');
        throw retryLater('SERVICE_UNAVAILABLE', 2000);
      }
      const body = (await res.json().catch(() => undefined)) as { on?: unknown; error?: { code?: string } } | undefined;
      if (res.status === 200 && typeof body?.on === 'boolean') return { on: body.on };
      const code = body?.error?.code;
      const retryAfter = res.headers.get('retry-after');
      if (code !== undefined && code in errorCatalogue) {
        throw new AmphiError(code as ErrorCode, retryAfter === null ? {} : { headers: { 'retry-after': retryAfter } });
      }
      log.warn({ spaceId, node: owner?.nodeId, status: res.status }, 'captions: the media node answered out of shape');
      throw retryLater('SERVICE_UNAVAILABLE', 2000);
    },
  };
}
