import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { Fleet, RevocationLog, type FleetNode, type NodeReport } from '../cluster/fleet.ts';
import { connectRedis, redisConfigured } from '../cluster/redis.ts';
import { RedisRateLimiter, RedisReactionTally, RedisReplayGuard } from '../cluster/shared-state.ts';
import type { SharedControlState } from '../control/plane.ts';
import type { Config } from '../config/schema.ts';
import { BusBridge } from '../control/bus-bridge.ts';
import type { ControlBus } from '../control/events.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import type { HealthCheck } from './ops-routes.ts';

/**
 * A node's link to the rest of a cluster (cluster mode: `cluster.redisUrl` or Sentinel set): its Redis
 * connections, the bus bridged over a Redis stream, the fleet registry it reports to and reads, the
 * revocation log, and the key check. Undefined in embedded mode: every plane stays in-process.
 */
export interface ClusterLink {
  readonly nodeId: string;
  readonly redis: Redis;
  readonly fleet: Fleet;
  readonly revocations: RevocationLog;
  /** The bus bridge, once `bridge` was called. */
  readonly bridge: BusBridge | undefined;
  /** Bridges a control bus to every other node (each role has one bus). */
  bridgeBus(bus: ControlBus): Promise<BusBridge>;
  /** Rate limits and reaction counts every control node shares. */
  readonly shared: SharedControlState;
  /** The proof-of-work replay check every node shares. */
  readonly replay: RedisReplayGuard;
  /** Whether every signing node's key is one this node verifies with (`/healthz` check `keys`). */
  keysCheck(): HealthCheck;
  /** Starts reporting (and reading the fleet) every `cluster.reportMs`. */
  start(): Promise<void>;
  /** Leaves the fleet, stops the bridge, closes the connections. */
  close(): Promise<void>;
}

export interface ClusterLinkOptions {
  readonly config: Readonly<Config>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signer: TokenSigner;
  /** What this node reports each beat (its role, URL, load), without the key ids (added here). */
  readonly report: () => Omit<NodeReport, 'keyIds' | 'cpu'>;
}

/** Connects this node to the cluster named in config, or returns undefined in embedded mode. */
export async function linkCluster(options: ClusterLinkOptions): Promise<ClusterLink | undefined> {
  const { config, clock, signer } = options;
  if (!redisConfigured(config.cluster)) return undefined;
  const log = options.log.child({ plane: 'cluster' });
  const nodeId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const redis = await connectRedis(config.cluster, log, 'shared');
  const cpu = cpuShare();
  let keyProblem: string | undefined;
  const checkKeys = (nodes: readonly FleetNode[]) => {
    const mine = new Set(signer.keyIds);
    const foreign = nodes.find((n) => n.role !== 'edge' && n.keyIds[0] !== undefined && !mine.has(n.keyIds[0]));
    const problem =
      foreign === undefined
        ? undefined
        : `node ${foreign.id} (${foreign.role}) signs tokens with key ${foreign.keyIds[0]!}, which this node does not hold (it has ${[...mine].join(', ')}): its listeners would all be refused here. Give every node the same AMPHI_SIGNING_KEY list.`;
    if (problem !== undefined && problem !== keyProblem) log.error({ node: foreign?.id }, problem);
    if (problem === undefined && keyProblem !== undefined) log.info('keys: every signing node now uses a key this node holds');
    keyProblem = problem;
  };
  const fleet = new Fleet({
    redis,
    clock,
    log,
    nodeId,
    reportMs: config.cluster.reportMs,
    staleMs: config.cluster.staleMs,
    report: () => ({ ...options.report(), cpu: cpu(), keyIds: signer.keyIds }),
    onRefresh: checkKeys,
  });
  const revocations = new RevocationLog(redis);
  const tally = new RedisReactionTally(redis, clock, log);
  let bridge: BusBridge | undefined;
  let reader: Redis | undefined;
  return {
    nodeId,
    redis,
    fleet,
    revocations,
    shared: { limiter: (name, policy) => new RedisRateLimiter(redis, name, policy, clock, log), reactions: tally },
    replay: new RedisReplayGuard(redis),
    get bridge() {
      return bridge;
    },
    async bridgeBus(bus) {
      reader = await connectRedis(config.cluster, log, 'bus', { blocking: true });
      const started = await BusBridge.start(bus, { publisher: redis, reader, nodeId, log, blockMs: 1000 });
      bridge = started;
      // The node where a removal (or an end) happens writes it to the revocation log, once for the cluster.
      const keepAfterEndMs = config.tokens.listenerTokenTtlSeconds * 1000 + config.edge.tokenKeepAliveMs;
      const logged = (what: string) => (error: unknown) => log.warn({ err: error }, `revocation log: ${what} failed`);
      bus.on('member.removed', ({ spaceId, accountId }) => {
        if (!started.delivering) revocations.add(spaceId, accountId).catch(logged('adding a removal'));
      });
      bus.on('member.unbanned', ({ spaceId, accountId }) => {
        if (!started.delivering) revocations.remove(spaceId, accountId).catch(logged('lifting a removal'));
      });
      bus.on('space.ended', ({ spaceId }) => {
        if (!started.delivering) revocations.spaceEnded(spaceId, keepAfterEndMs).catch(logged('expiring a Space'));
      });
      return started;
    },
    keysCheck: () => (keyProblem === undefined ? { ok: true } : { ok: false, reason: keyProblem }),
    async start() {
      tally.start();
      await fleet.start();
    },
    async close() {
      tally.stop();
      await tally.sync();
      await fleet.stop();
      await bridge?.close();
      reader?.disconnect();
      redis.disconnect();
    },
  };
}

/** This process's busy share of one core since the last call, 0..1. */
function cpuShare(): () => number {
  let last = process.cpuUsage();
  let at = performance.now();
  return () => {
    const used = process.cpuUsage(last);
    const now = performance.now();
    const share = (used.user + used.system) / 1000 / Math.max(1, now - at);
    last = process.cpuUsage();
    at = now;
    return Math.round(Math.min(1, share) * 1000) / 1000;
  };
}
