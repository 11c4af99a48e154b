import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.ts';
import { Edge } from '../edge/edge.ts';
import { listenerDoor } from '../edge/http.ts';
import { edgeMetrics } from '../edge/metrics.ts';
import { BucketFallbackOrigin } from '../edge/bucket-fallback.ts';
import type { OriginClient } from '../edge/edge.ts';
import { HttpOriginClient, WatchedOrigin } from '../edge/origin-client.ts';
import { bucketFromConfig } from './media-storage.ts';
import { OwnerOrigin } from './owner-origin.ts';
import { AmphiError } from '../errors.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { createHttpApp } from '../lib/http-app.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { keyList, TokenSigner } from '../lib/signed-token.ts';
import { redisConfigured } from '../cluster/redis.ts';
import { ConfigError } from '../config/load.ts';
import { ControlBus } from '../control/events.ts';
import { ListenerFailures } from '../lib/typed-emitter.ts';
import { linkCluster, type ClusterLink } from './cluster.ts';
import { Metrics } from './metrics.ts';
import { opsRoutes } from './ops-routes.ts';

export interface RunningEdge {
  readonly url: string;
  readonly edge: Edge;
  /** Its link to the cluster (cluster mode), else undefined. */
  readonly cluster: ClusterLink | undefined;
  /** Drains (reported to the fleet, `edge.drainMs`), then ends held streams and stops. Idempotent. */
  close(): Promise<void>;
}

/**
 * The edge role (`amphi edge --origin URL`): the edge on its own, for as many processes and machines
 * as the audience needs. It holds no database: it verifies listener tokens with the shared key list and
 * fetches from the origin with an edge credential signed by the same key. In cluster mode (Redis set)
 * it reports its URL and load to the fleet every second, hears removals and ends over the bus (and reads
 * the removals made before it started), and checks that the signing nodes' key is one it holds.
 */
export async function startEdge(config: Readonly<Config>, options: { clock?: Clock; log?: Logger } = {}): Promise<RunningEdge> {
  const clock = options.clock ?? systemClock;
  const log = (options.log ?? createLogger(config.log.level)).child({ plane: 'edge' });
  const { signingKey, originUrl } = checkEdgeConfig(config);
  const signer = new TokenSigner(keyList(signingKey));
  const metrics = new Metrics();
  let draining = false;
  let url = '';
  const cluster = await linkCluster({
    config,
    clock,
    log,
    signer,
    report: () => ({
      role: 'edge',
      url: config.edge.publicUrl ?? url,
      listeners: edge.allListeners(),
      spaces: edge.listenersBySpace(),
      draining,
    }),
  });
  const { origin, watched, bucket } = originOf(config, originUrl, signer, clock, log, cluster);
  const edge = new Edge({
    signer,
    clock,
    origin,
    log,
    cacheMaxBytes: config.edge.cacheMaxBytes,
    tokenKeepAliveMs: config.edge.tokenKeepAliveMs,
    streamLimits: config.edge,
    listenerTokenTtlMs: config.tokens.listenerTokenTtlSeconds * 1000,
    // Without a cluster no control bus reaches a separate edge: tokens end at their expiry.
    followsRemovals: cluster !== undefined,
  });
  if (cluster !== undefined) await followControl(cluster, edge, new ListenerFailures(log), log);
  edgeMetrics(metrics.registry, edge);
  const record = (route: string, method: string, status: number, seconds: number) =>
    metrics.http.record(route, method, status, seconds);
  const { trustProxy } = config.server;
  const listeners = listenerDoor(edge, {
    log,
    clock,
    limits: config.admission.limits,
    record,
    trustProxy,
    authPerAddress: config.edge.authPerAddress,
  });
  const app = createHttpApp({
    log,
    limits: config.admission.limits,
    bodyLimitBytes: config.server.bodyLimitBytes,
    trustProxy,
    ...listeners,
    record,
  });
  opsRoutes(app, {
    registry: metrics.registry,
    log,
    details: () => ({ role: 'edge', originFetches: edge.originFetches, draining, ...fallbackDetails(origin) }),
    ...(cluster === undefined ? {} : { checks: () => ({ keys: cluster.keysCheck() }) }),
    // Draining: joins already stop choosing this edge; a balancer should too. An origin that fails
    // every fetch: this edge cannot serve new listeners (the bucket still serves replays, if named).
    ready: () => ({
      edge: draining ? { ok: false, reason: 'draining (edge.drainMs): shutting down' } : { ok: true },
      origin: watched.readiness(),
    }),
    metricsAllowFrom: config.server.metricsAllowFrom,
  });
  await app.listen({ host: config.server.host, port: config.server.port });
  const port = (app.server.address() as AddressInfo).port;
  url = `http://${config.server.host}:${port}`;
  await cluster?.start();
  log.info({ url, origin: config.edge.originUrl, cluster: cluster?.nodeId ?? false }, 'amphi edge listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    edge,
    cluster,
    close: () =>
      (closing ??= (async () => {
        if (cluster !== undefined && config.edge.drainMs > 0) {
          // Joins stop choosing this edge at once; its listeners keep playing until it closes, then move on.
          draining = true;
          await cluster.fleet.beat();
          log.info({ drainMs: config.edge.drainMs, listeners: edge.allListeners() }, 'edge draining');
          await new Promise((resolve) => setTimeout(resolve, config.edge.drainMs));
        }
        edge.close(); // held streams end now, so the HTTP server can drain
        await app.close();
        await cluster?.close();
        bucket?.close();
      })()),
  };
}

function fallbackDetails(origin: OriginClient) {
  return origin instanceof BucketFallbackOrigin ? { servedFromBucket: origin.served } : {};
}

/**
 * The origin client: HTTP to the configured origin, or in a cluster to the media node holding each
 * Space's lease; with the recordings' bucket behind it when named (replays outlive an origin that is down).
 * `watched` remembers how the last fetches to the origin went (the `origin` component of `/readyz`).
 */
function originOf(
  config: Readonly<Config>,
  originUrl: string,
  signer: TokenSigner,
  clock: Clock,
  log: Logger,
  cluster: ClusterLink | undefined,
) {
  const bucket = bucketFromConfig(config.bucket);
  const http =
    cluster === undefined
      ? new HttpOriginClient(originUrl, signer, clock)
      : new OwnerOrigin(cluster, originUrl, signer, clock, log);
  // Watched before the bucket's fallback: readiness judges the origin itself, not what the bucket saves.
  const watched = new WatchedOrigin(http, clock);
  return { origin: bucket === undefined ? watched : new BucketFallbackOrigin(watched, bucket, log), watched, bucket };
}

/**
 * Removals and ends made on any control node reach this edge over the bus; removals made before it
 * started come from the revocation log, so a restarted edge still refuses a removed listener.
 */
async function followControl(cluster: ClusterLink, edge: Edge, failures: ListenerFailures, log: Logger): Promise<void> {
  const bus = new ControlBus(failures.for('control.bus'));
  bus.on('member.removed', ({ spaceId, accountId }) => edge.revoke(spaceId, accountId));
  bus.on('member.unbanned', ({ spaceId, accountId }) => edge.reinstate(spaceId, accountId));
  bus.on('space.ended', ({ spaceId }) => edge.spaceEnded(spaceId));
  await cluster.bridgeBus(bus);
  let count = 0;
  for (const { spaceId, subjects, ended } of await cluster.revocations.all()) {
    for (const subject of subjects) edge.revoke(spaceId, subject);
    if (ended) edge.spaceEnded(spaceId);
    count += subjects.length;
  }
  if (count > 0) log.info({ revocations: count }, 'removals made before this edge started are enforced');
}

/** What an edge cannot start without: the signing key and the origin (returned), a public URL in a cluster. */
function checkEdgeConfig(config: Readonly<Config>): { signingKey: string; originUrl: string } {
  if (config.tokens.signingKey === null) {
    throw new AmphiError('EDGE_CREDENTIAL_INVALID', {
      details: 'set AMPHI_SIGNING_KEY (tokens.signingKey) to the key the origin uses',
    });
  }
  if (config.edge.originUrl === null)
    throw new AmphiError('EDGE_CREDENTIAL_INVALID', { details: 'set --origin URL (edge.originUrl)' });
  const unspecified = ['0.0.0.0', '::', '[::]'].includes(config.server.host);
  if (redisConfigured(config.cluster) && config.edge.publicUrl === null && unspecified) {
    throw new ConfigError(
      `an edge of a cluster listening on ${config.server.host} needs AMPHI_EDGE_PUBLIC_URL (edge.publicUrl): the URL listeners reach it at, which it reports to the fleet`,
    );
  }
  return { signingKey: config.tokens.signingKey, originUrl: config.edge.originUrl };
}
