import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { MemoryLineStore, type LineStore } from '../admission/line-store.ts';
import { RedisLineStore } from '../admission/redis-line-store.ts';
import { ConfigError } from '../config/load.ts';
import { retryLater } from '../errors.ts';
import type { Config } from '../config/schema.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { keyList, TokenSigner } from '../lib/signed-token.ts';
import { ListenerFailures } from '../lib/typed-emitter.ts';
import { openStore } from '../storage/open.ts';
import { mediaStages, stageUrlFor } from './media-leases.ts';
import { linkCluster, type ClusterLink } from './cluster.ts';
import { remoteCaptions } from './remote-captions.ts';
import { buildControlApp, type ControlApp } from './control.ts';
import { Metrics } from './metrics.ts';

export interface RunningControl extends ControlApp {
  readonly url: string;
  readonly cluster: ClusterLink;
  /** Leaves the fleet, drains requests, closes storage. Idempotent. */
  close(): Promise<void>;
}

/**
 * The control role (`amphi control`): the API, the door for joins and the web app, with no media
 * plane, for as many copies behind a load balancer as joins need. It keeps nothing of its own:
 * PostgreSQL holds the Spaces and accounts (each change one transaction), Redis the waiting room (one
 * line per Space for every node), the bus, the fleet of edges joins are sent to, and this node's share
 * of the cluster's join rate (1 / the control nodes reporting).
 */
export async function startControl(
  config: Readonly<Config>,
  options: { clock?: Clock; log?: Logger } = {},
): Promise<RunningControl> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger(config.log.level);
  const missing = [
    config.databaseUrl === null ? "DATABASE_URL (the cluster's PostgreSQL)" : undefined,
    config.cluster.redisUrl === null && config.cluster.sentinels.length === 0 ? 'REDIS_URL or AMPHI_REDIS_SENTINELS' : undefined,
    config.tokens.signingKey === null ? 'AMPHI_SIGNING_KEY (the key list every node shares)' : undefined,
    config.stage.publicUrl === null ? "AMPHI_STAGE_PUBLIC_URL (the media node's stage, where hosts go live)" : undefined,
  ].filter((entry) => entry !== undefined);
  if (missing.length > 0) throw new ConfigError(`amphi control needs ${missing.join(', ')}`);
  const signer = new TokenSigner(keyList(config.tokens.signingKey!));
  let url = '';
  const cluster = (await linkCluster({
    config,
    clock,
    log,
    signer,
    report: () => ({ role: 'control', url, listeners: 0, spaces: {}, draining: false }),
  }))!;
  let store;
  try {
    store = await openStore({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      nowMs: clock.now(),
      onConnectionError: (error) => log.warn({ err: error }, 'database connection lost (the pool replaces it)'),
    });
  } catch (error) {
    await cluster.close();
    throw error;
  }
  const metrics = new Metrics();
  const { fleet } = cluster;
  let control: ControlApp;
  try {
    control = await buildControlApp({
      config,
      store,
      notifyStore: store.notifications(),
      clock,
      signer,
      log,
      metrics,
      failures: new ListenerFailures(log),
      urls: {
        // No edge reports and none is configured: the honest 503 (the API has no listener door).
        edge: () => config.edge.publicUrl ?? noEdge(),
        stage: stageUrlFor(cluster, () => config.stage.publicUrl!, log),
        edges: () => fleet.chooseEdge(),
      },
      line: lineStore(config, cluster, clock, log),
      share: () => 1 / fleet.doorNodes(),
      shared: cluster.shared,
      replay: cluster.replay,
      admittedListeners: () => fleet.listeners(),
      spaceListeners: (spaceId) => fleet.listeners(spaceId),
      checks: () => ({ keys: cluster.keysCheck(), fleet: fleetCheck(cluster) }),
      captions: remoteCaptions(cluster, log),
      web: {
        distDir: fileURLToPath(new URL('../../web/dist', import.meta.url)),
        origins: () => ({
          stage: config.stage.publicUrl!,
          stages: mediaStages(cluster),
          edges: [...(config.edge.publicUrl === null ? [] : [config.edge.publicUrl]), ...fleet.edges().map((n) => n.url)],
        }),
      },
    });
    await cluster.bridgeBus(control.plane.bus);
    await control.app.listen({ host: config.server.host, port: config.server.port });
  } catch (error) {
    await cluster.close();
    await store.close();
    throw error;
  }
  const port = (control.app.server.address() as AddressInfo).port;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  url = config.server.publicUrl ?? `http://${host}:${port}`;
  await cluster.start();
  log.info({ url, node: cluster.nodeId, edges: fleet.edges().length }, 'amphi control listening');
  let closing: Promise<void> | undefined;
  return {
    ...control,
    url,
    cluster,
    close: () =>
      (closing ??= (async () => {
        // Requests in flight finish first (they may need Redis), then the node leaves the fleet.
        await control.app.close();
        await cluster.close();
        await store.close();
        log.info('amphi control stopped');
      })()),
  };
}

function noEdge(): never {
  throw retryLater('NO_EDGE_AVAILABLE', 2000);
}

/** Degraded while the registry cannot be read (Redis away): joins then go to the edges last seen. */
function fleetCheck(cluster: ClusterLink) {
  return cluster.fleet.failures === 0
    ? ({ ok: true } as const)
    : ({ ok: false, reason: `the fleet registry (Redis) failed ${cluster.fleet.failures} beats in a row` } as const);
}

/** The cluster's waiting room in Redis; or, broken on purpose for the drill's self-check, one per node. */
function lineStore(config: Readonly<Config>, cluster: ClusterLink, clock: Clock, log: Logger): LineStore {
  if (!config.cluster.brokenPerNodeLine) return new RedisLineStore(cluster.redis);
  log.error('cluster.brokenPerNodeLine: this node keeps its own waiting line (FIFO across nodes is broken on purpose)');
  return new MemoryLineStore(clock);
}
