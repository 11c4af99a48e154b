import type { Redis } from 'ioredis';
import { every, type Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { luaScript, runScript } from '../lib/redis-script.ts';
import { RateLimiter, type Limiter, type RateLimitPolicy, type TakeResult } from '../lib/token-bucket.ts';

/**
 * Token buckets every node shares: one Redis hash per key (tokens, last refill), changed only by a Lua
 * script on Redis's own clock, expiring once full again. One round trip per `take`: for the limits
 * where a cluster must count as one (sign-in attempts per address, reactions per account), not for the
 * join path (each node admits its share of the join rate without asking).
 */
export class RedisRateLimiter implements Limiter {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #policy: RateLimitPolicy;
  /** While Redis is away: this node's own buckets (the limit per node instead of per cluster), never a 500. */
  readonly #local: RateLimiter;
  readonly #log: Logger;
  #failing = false;

  constructor(redis: Redis, name: string, policy: RateLimitPolicy, clock: Clock, log: Logger, prefix = 'amphi:limit:') {
    this.#redis = redis;
    this.#prefix = `${prefix}${name}:`;
    this.#policy = policy;
    this.#local = new RateLimiter(policy, clock);
    this.#log = log;
  }

  async take(key: string): Promise<TakeResult> {
    const { capacity, refillPerSecond } = this.#policy;
    const keepMs = refillPerSecond > 0 ? Math.ceil((capacity / refillPerSecond) * 1000) + 1000 : 86_400_000;
    let reply: [number, number];
    try {
      reply = (await runScript(this.#redis, TAKE, [`${this.#prefix}${key}`], [capacity, refillPerSecond, 1, keepMs])) as [
        number,
        number,
      ];
    } catch (error) {
      if (!this.#failing)
        this.#log.warn({ err: error, limit: this.#prefix }, 'rate limits: Redis unreachable; limiting per node meanwhile');
      this.#failing = true;
      return this.#local.take(key);
    }
    this.#failing = false;
    const [ok, waitMs] = reply;
    return ok === 1 ? { ok: true } : { ok: false, retryAfterMs: waitMs < 0 ? Infinity : waitMs };
  }
}

const TAKE = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cap, rate, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tk', 'at')
local tokens = tonumber(b[1]) or cap
local at = tonumber(b[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - at) / 1000 * rate)
local ok, wait = 0, 0
if tokens >= cost then
  tokens = tokens - cost
  ok = 1
elseif rate > 0 then
  wait = math.ceil((cost - tokens) / rate * 1000)
else
  wait = -1
end
redis.call('HSET', KEYS[1], 'tk', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {ok, wait}
`);

/** Solved proof-of-work challenges, used once on any node: `SET NX` with the challenge's expiry. */
export class RedisReplayGuard {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix = 'amphi:pow:') {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async firstUse(nonce: string, expiresAtMs: number): Promise<boolean> {
    const set = await this.#redis.set(`${this.#prefix}${nonce}`, '1', 'PXAT', Math.ceil(expiresAtMs), 'NX');
    return set === 'OK';
  }
}

/** How often a node adds its reactions to the shared counts and reads them back. */
const TALLY_SYNC_MS = 250;
/** A Space whose counts nobody asked for on this node this long is no longer read back. */
const WATCH_MS = 10_000;

/**
 * Reaction counts every node shares: each node adds what it received to a Redis hash per Space
 * (HINCRBY, batched every 250 ms) and reads back the Spaces it shows (HGETALL), so a reaction sent to
 * any node is counted on every node's view within about half a second. Between syncs a node shows
 * the last counts read plus its own not yet sent.
 */
export class RedisReactionTally {
  readonly #redis: Redis;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #prefix: string;
  #pending = new Map<string, Map<string, number>>();
  readonly #read = new Map<string, Map<string, number>>();
  readonly #watched = new Map<string, number>();
  #stop: (() => void) | undefined;
  #failing = false;

  constructor(redis: Redis, clock: Clock, log: Logger, prefix = 'amphi:reactions:') {
    this.#redis = redis;
    this.#clock = clock;
    this.#log = log;
    this.#prefix = prefix;
  }

  start(): void {
    this.#stop ??= every(
      this.#clock,
      TALLY_SYNC_MS,
      () => this.sync(),
      () => {},
    );
  }

  stop(): void {
    this.#stop?.();
    this.#stop = undefined;
  }

  add(spaceId: string, emoji: string, count: number): void {
    let pending = this.#pending.get(spaceId);
    if (pending === undefined) {
      pending = new Map();
      this.#pending.set(spaceId, pending);
    }
    pending.set(emoji, (pending.get(emoji) ?? 0) + count);
    this.#watched.set(spaceId, this.#clock.now());
  }

  counts(spaceId: string): { emoji: string; count: number }[] {
    this.#watched.set(spaceId, this.#clock.now());
    const merged = new Map(this.#read.get(spaceId));
    for (const [emoji, n] of this.#pending.get(spaceId) ?? []) merged.set(emoji, (merged.get(emoji) ?? 0) + n);
    return [...merged].map(([emoji, count]) => ({ emoji, count }));
  }

  forget(spaceId: string): void {
    this.#pending.delete(spaceId);
    this.#read.delete(spaceId);
    this.#watched.delete(spaceId);
    this.#redis.del(`${this.#prefix}${spaceId}`).catch(() => {});
  }

  /** Sends this node's reactions and reads back the watched Spaces' counts (one pipeline). */
  async sync(): Promise<void> {
    const now = this.#clock.now();
    for (const [spaceId, at] of this.#watched) if (at < now - WATCH_MS) this.#watched.delete(spaceId);
    const sending = this.#pending;
    if (sending.size === 0 && this.#watched.size === 0) return;
    this.#pending = new Map();
    const pipeline = this.#redis.pipeline();
    for (const [spaceId, counts] of sending) {
      for (const [emoji, n] of counts) pipeline.hincrby(`${this.#prefix}${spaceId}`, emoji, n);
      pipeline.pexpire(`${this.#prefix}${spaceId}`, 86_400_000);
    }
    const watched = [...this.#watched.keys()];
    for (const spaceId of watched) pipeline.hgetall(`${this.#prefix}${spaceId}`);
    try {
      const results = (await pipeline.exec()) ?? [];
      const reads = results.slice(results.length - watched.length);
      // Only additions that failed are sent again (a failed read is just retried at the next sync).
      if (results.slice(0, results.length - watched.length).some(([error]) => error !== null)) {
        throw new Error('reactions: adding to the shared counts failed');
      }
      watched.forEach((spaceId, i) => {
        if (reads[i]?.[0] !== null) return;
        const hash = (reads[i][1] ?? {}) as Record<string, string>;
        this.#read.set(spaceId, new Map(Object.entries(hash).map(([emoji, n]) => [emoji, Number(n)])));
      });
      this.#failing = false;
    } catch (error) {
      // Kept for the next sync: a reaction is late, not lost, while Redis is away.
      for (const [spaceId, counts] of sending) for (const [emoji, n] of counts) this.add(spaceId, emoji, n);
      if (!this.#failing)
        this.#log.warn({ err: error }, 'reactions: the shared counts are unreachable; counting locally meanwhile');
      this.#failing = true;
    }
  }
}
