import type { Redis } from 'ioredis';
import { every, type Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { luaScript, runScript } from '../lib/redis-script.ts';

/** Who mixes and packages a Space: a media node, and the fencing number its lease was taken with. */
export interface LeaseOwner {
  readonly nodeId: string;
  /** Grows with every take-over of the Space: a write tagged with a lower one is from a deposed owner. */
  readonly fence: number;
}

export interface SpaceLeaseOptions {
  readonly redis: Redis;
  readonly nodeId: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** A lease not renewed for this long is free for another node to take. */
  readonly ttlMs: number;
  /** How often the owner renews each lease it holds (well under `ttlMs`). */
  readonly renewMs: number;
  readonly prefix?: string;
  /**
   * A lease this node held is gone (expired, taken by another node, or not renewed for `ttlMs`
   * because Redis could not be reached): stop producing the Space now.
   */
  readonly onLost: (spaceId: string, fence: number) => void;
  /**
   * A lease found expired with nobody else holding it (a Redis failover that outlasted it) was taken
   * again at once, with a new fence: the node goes on producing the Space without a break.
   */
  readonly onRetaken?: (spaceId: string, fence: number) => void;
}

/**
 * Leases on Spaces for media nodes: `SET owner NX PX ttl` with a fencing number, renewed by the owner.
 *
 * One Redis key per Space holds `<nodeId> <fence>` and expires `ttlMs` after the last renewal; taking
 * it increments the Space's fence counter in the same script, so every owner in a Space's history has
 * a larger number than the one before. An owner that misses renewals (a pause, a partition) loses the
 * lease when it expires; its next renewal finds it gone or someone else's and reports `lost`, and the
 * fence lets anything it still writes be told from the new owner's. Redis is the clock: no two nodes
 * compare their own. An owner cut off from Redis (a partition) gives a lease up by itself once
 * `ttlMs` passed since it sent the last renewal Redis confirmed: by then Redis may have let another
 * node take it, and its speakers must reconnect to that one.
 */
export class SpaceLeases {
  readonly #o: SpaceLeaseOptions;
  readonly #prefix: string;
  /** Leases held, with the fence each was taken with. */
  readonly #held = new Map<string, number>();
  /** When (this node's clock) the last acquire or renewal Redis confirmed was sent, per held lease. */
  readonly #confirmed = new Map<string, number>();
  #stop = () => {};

  constructor(options: SpaceLeaseOptions) {
    if (options.renewMs * 2 > options.ttlMs) throw new Error('SpaceLeases: renewMs must be at most half of ttlMs');
    this.#o = options;
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
  }

  /** Takes the Space's lease if nobody holds it; returns the fence, or undefined when another node holds it. */
  async acquire(spaceId: string): Promise<number | undefined> {
    const [owner, fence] = this.#keys(spaceId);
    const sentAt = this.#o.clock.now();
    const taken = (await runScript(this.#o.redis, ACQUIRE, [owner, fence], [this.#o.nodeId, this.#o.ttlMs])) as number | null;
    if (taken === null) return undefined;
    this.#held.set(spaceId, taken);
    this.#confirmed.set(spaceId, sentAt);
    this.#o.log.info({ spaceId, fence: taken }, 'lease taken');
    return taken;
  }

  /** Who holds the Space's lease now (undefined: nobody; a live Space then needs a new owner). */
  owner(spaceId: string): Promise<LeaseOwner | undefined> {
    return leaseOwner(this.#o.redis, spaceId, this.#prefix);
  }

  /** Who holds each of these Spaces' leases: the reads go out together (one round trip, any Redis topology). */
  owners(spaceIds: readonly string[]): Promise<(LeaseOwner | undefined)[]> {
    return Promise.all(spaceIds.map((spaceId) => this.owner(spaceId)));
  }

  /** The Spaces this node holds, and each one's fence. */
  held(): ReadonlyMap<string, number> {
    return this.#held;
  }

  /** Gives a Space up (it ended, or this node drains); only if this node still holds it. */
  async release(spaceId: string): Promise<void> {
    const fence = this.#held.get(spaceId);
    if (fence === undefined) return;
    this.#held.delete(spaceId);
    this.#confirmed.delete(spaceId);
    await runScript(this.#o.redis, RELEASE, [this.#keys(spaceId)[0]], [`${this.#o.nodeId} ${fence}`]);
  }

  /** Renews every held lease each `renewMs`; a lease found gone or taken is dropped and reported `lost`. */
  start(): void {
    this.#stop = every(
      this.#o.clock,
      this.#o.renewMs,
      () => this.renew(),
      (error) => this.#o.log.warn({ err: error }, 'lease renewal failed (retrying)'),
    );
  }

  stop(): void {
    this.#stop();
  }

  /**
   * One renewal round (what `start` runs each `renewMs`). A lease found gone or taken is dropped and
   * reported `lost`; so is one Redis has not confirmed for `ttlMs` (then the round's error is thrown too).
   */
  async renew(): Promise<void> {
    const spaces = [...this.#held];
    if (spaces.length === 0) return;
    const sentAt = this.#o.clock.now();
    let results: [Error | null, unknown][] | null | undefined;
    let failure: Error | undefined;
    try {
      results = await this.#redo(spaces);
      if (results?.some(([error]) => error?.message.startsWith('NOSCRIPT') === true)) {
        await this.#o.redis.script('LOAD', RENEW.lua);
        results = await this.#redo(spaces);
      }
    } catch (error) {
      failure = error instanceof Error ? error : new Error('lease renewal failed');
    }
    const now = this.#o.clock.now();
    const expired: [string, number][] = [];
    spaces.forEach(([spaceId, fence], i) => {
      if (this.#held.get(spaceId) !== fence) return;
      const [error, kept] = results?.[i] ?? [failure ?? new Error('no reply'), 0];
      failure ??= error ?? undefined;
      if (error === null && kept === 1) {
        this.#confirmed.set(spaceId, sentAt);
        return;
      }
      if (error === null && kept === -1 && now - (this.#confirmed.get(spaceId) ?? sentAt) < this.#o.ttlMs * 2) {
        expired.push([spaceId, fence]);
        return;
      }
      const unconfirmedMs = now - (this.#confirmed.get(spaceId) ?? sentAt);
      if (error !== null && unconfirmedMs < this.#o.ttlMs) return; // retried next round
      this.#held.delete(spaceId);
      this.#confirmed.delete(spaceId);
      if (error === null) this.#o.log.warn({ spaceId, fence }, 'lease lost: another node may be producing this Space');
      else
        this.#o.log.error(
          { spaceId, fence, unconfirmedMs, err: error },
          'lease given up: Redis has not confirmed it for its whole TTL',
        );
      this.#o.onLost(spaceId, fence);
    });
    for (const [spaceId, fence] of expired) await this.#retake(spaceId, fence);
    if (failure !== undefined) throw failure;
  }

  /** An expired lease nobody took: taken again (a new fence), or lost if another node was quicker. */
  async #retake(spaceId: string, fence: number): Promise<void> {
    this.#held.delete(spaceId);
    const taken = await this.acquire(spaceId).catch(() => undefined);
    if (taken !== undefined) {
      this.#o.log.warn({ spaceId, fence, newFence: taken }, 'lease had expired (a Redis outage or failover); taken again');
      this.#o.onRetaken?.(spaceId, taken);
      return;
    }
    this.#confirmed.delete(spaceId);
    this.#o.log.warn({ spaceId, fence }, 'lease lost: another node may be producing this Space');
    this.#o.onLost(spaceId, fence);
  }

  async #redo(spaces: [string, number][]) {
    const pipeline = this.#o.redis.pipeline();
    for (const [spaceId, fence] of spaces) {
      pipeline.evalsha(RENEW.sha, 1, this.#keys(spaceId)[0], `${this.#o.nodeId} ${fence}`, this.#o.ttlMs);
    }
    return pipeline.exec();
  }

  #keys(spaceId: string): [owner: string, fence: string] {
    return leaseKeys(this.#prefix, spaceId);
  }
}

const DEFAULT_PREFIX = 'amphi:media:';

/** Who holds a Space's lease, read by any node (a control node naming the owner's stage). */
export async function leaseOwner(redis: Redis, spaceId: string, prefix = DEFAULT_PREFIX): Promise<LeaseOwner | undefined> {
  const value = await redis.get(leaseKeys(prefix, spaceId)[0]);
  return value === null ? undefined : parseOwner(value);
}

function leaseKeys(prefix: string, spaceId: string): [owner: string, fence: string] {
  // One hash tag: both keys on one shard, so the script may touch both.
  return [`${prefix}owner:{${spaceId}}`, `${prefix}fence:{${spaceId}}`];
}

export function parseOwner(value: string): LeaseOwner | undefined {
  const space = value.lastIndexOf(' ');
  const fence = Number(value.slice(space + 1));
  if (space <= 0 || !Number.isSafeInteger(fence)) return undefined;
  return { nodeId: value.slice(0, space), fence };
}

const ACQUIRE = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return nil end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. fence, 'PX', ARGV[2])
return fence
`);

const RENEW = luaScript(`
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if owner == false then return -1 end
return 0
`);

const RELEASE = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);
