import { leaseOwner, SpaceLeases } from '../cluster/lease.ts';
import type { ControlBus } from '../control/events.ts';
import { every, type Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { BucketMediaStorage } from '../origin/bucket-storage.ts';
import type { OriginPlane } from '../origin/plane.ts';
import type { StagePlane } from '../stage/plane.ts';
import type { Store } from '../storage/store.ts';
import type { ClusterLink } from './cluster.ts';

export interface MediaLeaseOptions {
  readonly cluster: ClusterLink;
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly bus: ControlBus;
  /** A lease not renewed for this long is taken over by another media node. */
  readonly ttlMs: number;
  /** Built later than the leases (the stage asks them whether it may open a room). */
  readonly planes: () => {
    readonly stage: StagePlane;
    readonly origin: OriginPlane;
    readonly bucket: BucketMediaStorage | undefined;
  };
}

/**
 * Which media node produces which Space (cluster mode): a lease per Space (`cluster/lease.ts`).
 *
 * A media node takes a Space's lease when a publisher of the Space reaches its stage, when the Space
 * starts, or when it finds a live Space nobody holds (its owner died: the lease expired after `ttlMs`).
 * Only the holder opens the Space's room; a node taking over first brings the recording's manifest
 * from the bucket, so the recording resumes where the bucket has it (the hole listed as a gap). A node
 * that loses a lease stops producing at once and writes nothing more. Leases are given up when a Space
 * ends and when the node stops (so another takes over at once, without waiting for the expiry).
 */
export function mediaLeases(o: MediaLeaseOptions) {
  const log = o.log.child({ plane: 'media' });
  const leases = new SpaceLeases({
    redis: o.cluster.redis,
    nodeId: o.cluster.nodeId,
    clock: o.clock,
    log,
    ttlMs: o.ttlMs,
    renewMs: Math.floor(o.ttlMs / 3),
    // Taken again after it expired in a Redis failover: the recording goes on, its writes under the new fence.
    onRetaken: (spaceId, fence) => o.planes().bucket?.fence(spaceId, fence),
    onLost: (spaceId) => {
      const { stage, origin, bucket } = o.planes();
      origin.abandon(spaceId);
      const dropped = bucket?.forget(spaceId) ?? 0;
      stage.dropRoom(spaceId);
      log.warn({ spaceId, droppedUploads: dropped }, 'this node no longer produces the Space');
    },
  });
  /**
   * Takes in flight, so that two callers for one Space share one attempt. Asked before the held
   * leases: a lease is held from `acquire` on, before its manifest is here, and a caller told "yes"
   * then (a second speaker reconnecting at the same moment) would open the room on no manifest and
   * start the recording over.
   */
  const taking = new Map<string, Promise<boolean>>();
  const owns = (spaceId: string): Promise<boolean> => {
    let attempt = taking.get(spaceId);
    if (attempt === undefined && leases.held().has(spaceId)) return Promise.resolve(true);
    if (attempt === undefined) {
      attempt = (async () => {
        const fence = await leases.acquire(spaceId);
        if (fence === undefined) return false;
        // The previous owner's recording, if any, continues here: its manifest comes from the bucket
        // first; from now on this node's manifest writes carry its fence.
        // A hydrate that fails gives the lease back: holding it without the manifest would start the
        // recording over (a new timeline) instead of resuming it.
        const bucket = o.planes().bucket;
        try {
          await bucket?.hydrate(spaceId);
        } catch (error) {
          await leases.release(spaceId).catch(() => {});
          throw error;
        }
        bucket?.fence(spaceId, fence);
        return true;
      })().finally(() => taking.delete(spaceId));
      taking.set(spaceId, attempt);
    }
    return attempt;
  };
  const takeOverFailed = (spaceId: string, error: unknown) => {
    log.warn({ spaceId, err: error }, 'media: could not take over a live Space (the next sweep tries again)');
    return false;
  };
  /** Held Spaces not live, with no speaker here, seen so at the last sweep: given up at this one. */
  let idle = new Set<string>();
  const redis = settling(o.cluster.redis, o.clock, o.ttlMs);
  /**
   * Live Spaces nobody holds (their node died or stopped) are taken over and their rooms opened. A
   * lease taken for a Space not started yet (a speaker came early) is given up once no speaker of it
   * is here for two sweeps in a row, so that an early visitor does not pin the Space to this node.
   * Nothing is taken over while this node's Redis is down or less than `ttlMs` after it came back.
   */
  const sweep = async () => {
    const live = await liveSpaceIds(o.store);
    const { stage } = o.planes();
    const idleNow = new Set(
      [...leases.held().keys()].filter((id) => !live.includes(id) && stage.room(id) === undefined && stage.sessionsOf(id) === 0),
    );
    for (const spaceId of idleNow) {
      if (!idle.has(spaceId)) continue;
      idleNow.delete(spaceId);
      log.info({ spaceId }, 'giving up the lease of a Space not started, whose speakers left');
      await leases.release(spaceId);
    }
    idle = idleNow;
    // Just after a Redis outage or failover, an unheld live Space most likely had its lease expire
    // while its owner could not renew: the owner takes it again at its next renewal. Taking it from
    // here would move the Space (its speakers reconnect, uploads not sent yet are dropped).
    if (redis.settling()) return;
    const unheld = live.filter((spaceId) => !leases.held().has(spaceId));
    const owners = await leases.owners(unheld);
    for (const [i, spaceId] of unheld.entries()) {
      if (owners[i] !== undefined || !(await owns(spaceId).catch((error: unknown) => takeOverFailed(spaceId, error)))) continue;
      log.info({ spaceId }, 'taking over a live Space nobody produces');
      o.planes().stage.openRoom(spaceId);
    }
  };
  const offEnded = o.bus.on('space.ended', ({ spaceId }) => {
    leases.release(spaceId).catch((error: unknown) => log.warn({ spaceId, err: error }, 'lease release failed'));
  });
  let stopSweep = () => {};
  return {
    owns,
    leases,
    /** One sweep now (what `start` runs each `ttlMs / 3`). */
    sweep,
    /** Renews what this node holds and takes over orphaned Spaces, every `ttlMs / 3`; one sweep now. */
    async start() {
      leases.start();
      await sweep().catch((error: unknown) => log.warn({ err: error }, 'media: the first sweep failed'));
      stopSweep = every(o.clock, Math.floor(o.ttlMs / 3), sweep, (error) => log.warn({ err: error }, 'media: sweep failed'));
    },
    /** Stops renewing and gives every lease up (call after the rooms were suspended). */
    async stop() {
      stopSweep();
      redis.off();
      leases.stop();
      offEnded();
      await Promise.all([...leases.held().keys()].map((spaceId) => leases.release(spaceId))).catch(() => {});
    },
  };
}

export type MediaLeases = ReturnType<typeof mediaLeases>;

/**
 * Where a Space's publishers connect in a cluster: the stage of the media node holding its lease; when
 * nobody holds it (not started, or between owners), the least busy media node's (whose stage takes
 * the lease on the first publisher); `fallback` when no media node reports or Redis cannot be asked.
 */
export function stageUrlFor(cluster: ClusterLink, fallback: () => string, log: Logger) {
  return async (spaceId: string): Promise<string> => {
    try {
      const owner = await leaseOwner(cluster.redis, spaceId);
      const held = owner === undefined ? undefined : cluster.fleet.node(owner.nodeId)?.stageUrl;
      if (held !== undefined) return held;
    } catch (error) {
      log.warn({ spaceId, err: error }, 'media: the Space owner could not be read; naming a media node anyway');
    }
    const media = cluster.fleet.nodes
      .filter((n) => n.role === 'media' && n.stageUrl !== undefined && !n.draining)
      .sort((a, b) => a.cpu - b.cpu);
    return media[0]?.stageUrl ?? fallback();
  };
}

/** Every media node's stage, for the pages' CSP. */
export function mediaStages(cluster: ClusterLink): string[] {
  return cluster.fleet.nodes.flatMap((n) => (n.role === 'media' && n.stageUrl !== undefined ? [n.stageUrl] : []));
}

/**
 * Whether this node's Redis connection is down, or came back less than `ttlMs` ago (a failover, an
 * outage): long enough for every owner, renewing each `ttlMs / 3`, to take its expired leases again.
 */
function settling(redis: ClusterLink['redis'], clock: Clock, ttlMs: number) {
  let down = false;
  let backAt: number | undefined;
  const lost = () => (down = true);
  const ready = () => {
    if (down) backAt = clock.now();
    down = false;
  };
  redis.on('close', lost);
  redis.on('ready', ready);
  return {
    settling: () => down || (backAt !== undefined && clock.now() - backAt < ttlMs),
    off: () => {
      redis.off('close', lost);
      redis.off('ready', ready);
    },
  };
}

async function liveSpaceIds(store: Store): Promise<string[]> {
  const page = 100;
  const ids: string[] = [];
  for (let offset = 0; ; offset += page) {
    const spaces = await store.listSpaces({ state: 'live', limit: page, offset });
    ids.push(...spaces.map((s) => s.id));
    if (spaces.length < page) return ids;
  }
}
