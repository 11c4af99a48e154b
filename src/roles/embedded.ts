import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.ts';
import { roomStateView, spaceView } from '../control/http/views.ts';
import { sharedPageHead } from '../control/http/share.ts';
import { Edge } from '../edge/edge.ts';
import { listenerDoor } from '../edge/http.ts';
import { edgeMetrics } from '../edge/metrics.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { createHttpApp } from '../lib/http-app.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { listenerFailureMetrics } from '../lib/metrics.ts';
import { TokenSigner } from '../lib/signed-token.ts';
import { ListenerFailures } from '../lib/typed-emitter.ts';
import { RecordingDownloads } from '../origin/download.ts';
import { bucketMetrics, originMetrics } from '../origin/metrics.ts';
import { stageMetrics } from '../stage/metrics.ts';
import { OriginPlane } from '../origin/plane.ts';
import { RoomState } from '../origin/room-state.ts';
import { originRoutes } from '../origin/routes.ts';
import { stageRoutes } from '../stage/http.ts';
import { StagePlane } from '../stage/plane.ts';
import { programEncoder } from '../stage/room.ts';
import { openStore } from '../storage/open.ts';
import { databaseUnreachable, lockDataDir, reopenLiveSpaces } from './startup.ts';
import type { SqlStore } from '../storage/sql-store.ts';
import { RedisLineStore } from '../admission/redis-line-store.ts';
import { redisConfigured } from '../cluster/redis.ts';
import { ConfigError } from '../config/load.ts';
import type { NodeReport } from '../cluster/fleet.ts';
import { linkCluster, type ClusterLink } from './cluster.ts';
import { controlDoor, controlServices, mountControl, type ControlApp } from './control.ts';
import { listeningReadiness } from './ops-routes.ts';
import { liveSignals } from './live-signals.ts';
import { startDemo } from './demo.ts';
import { secureDataDir } from './data-dir.ts';
import { loadSigningKeys } from './keys.ts';
import { Metrics } from './metrics.ts';
import { stageAuthority } from './stage-authority.ts';
import { captionedOrigin, followStage, liveCaptions, mountCaptions, withCaptions, type Captions } from './captions.ts';
import { once } from '../lib/once.ts';
import { webRoutes } from './web.ts';
import { ListenUrls, portOf } from './listen-urls.ts';
import { bucketCheck, forgetTranscripts, mediaCheck, mediaStorage, retentionSweep } from './media-storage.ts';
import { mediaLeases, mediaStages, stageUrlFor, type MediaLeases } from './media-leases.ts';

/** How often a held room-state request re-reads the document (multiplied under overload). */
const ROOM_STATE_POLL_MS = 250;

/** The stage's request deadline: a WHIP offer is small, a publisher that stalls is cut off sooner. */
const STAGE_REQUEST_TIMEOUT_MS = 15_000;
const STAGE_BODY_LIMIT_BYTES = 16_384;

export interface RunningServer extends ControlApp {
  readonly origin: OriginPlane;
  readonly edge: Edge;
  readonly stage: StagePlane;
  /** The API URL, with the real port when port 0 was asked for. */
  readonly url: string;
  /** The stage's own listener (WHIP). */
  readonly stageUrl: string;
  /** Stops accepting, closes the stage, drains in-flight requests, closes storage. Idempotent. */
  close(): Promise<void>;
}

/**
 * The embedded role (`amphi start`): every plane in this process, SQLite unless DATABASE_URL is set.
 * The one place that builds them, in dependency order. The API and the stage listen on separate
 * ports, so audience traffic never queues in front of a host going live.
 */
export async function startEmbedded(
  config: Readonly<Config>,
  options: { clock?: Clock; log?: Logger } = {},
): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger(config.log.level);
  // Before anything reads or writes the data directory: a second Amphi on it stops here.
  const lock = await lockDataDir(config.dataDir);
  try {
    const server = await startHolding(config, clock, log);
    return { ...server, close: () => server.close().finally(() => lock.release()) };
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function startHolding(config: Readonly<Config>, clock: Clock, log: Logger): Promise<RunningServer> {
  secureDataDir(config.dataDir, config.databaseUrl === null, log);
  if (redisConfigured(config.cluster) && (config.databaseUrl === null || config.tokens.signingKey === null)) {
    throw new ConfigError(
      'a media node of a cluster (amphi start with REDIS_URL) needs DATABASE_URL (the PostgreSQL every node shares) and AMPHI_SIGNING_KEY (the key list every node shares)',
    );
  }
  const signer = new TokenSigner(loadSigningKeys(config.tokens.signingKey, config.dataDir));
  // Cluster mode (Redis configured): this process is the media node, and reports itself as an edge too.
  let report: () => MediaReport = () => ({ url: '', listeners: 0, spaces: {} });
  const cluster = await linkCluster({
    config,
    clock,
    log,
    signer,
    report: () => ({ role: 'media', draining: false, ...report() }),
  });
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    nowMs: clock.now(),
    onConnectionError: (error) => log.warn({ err: error }, 'database connection lost (the pool replaces it)'),
  }).catch(async (error: unknown) => {
    await cluster?.close();
    throw config.databaseUrl === null ? error : databaseUnreachable(error, config.databaseUrl);
  });
  try {
    return await wire({ config, clock, log, signer, store, cluster, reportWith: (fn) => (report = fn) });
  } catch (error) {
    await store.close();
    await cluster?.close();
    throw error;
  }
}

type MediaReport = Pick<NodeReport, 'url' | 'listeners' | 'spaces' | 'stageUrl'>;

/** The process-wide pieces every plane is built from. */
interface Parts {
  readonly config: Readonly<Config>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signer: TokenSigner;
  readonly store: SqlStore;
  /** The link to the rest of the cluster (cluster mode), else undefined. */
  readonly cluster: ClusterLink | undefined;
  readonly metrics: Metrics;
  readonly failures: ListenerFailures;
  readonly urls: ListenUrls;
  readonly captions: Captions;
}

async function wire(
  base: Omit<Parts, 'metrics' | 'failures' | 'urls' | 'captions'> & { readonly reportWith: (report: () => MediaReport) => void },
): Promise<RunningServer> {
  const { config, clock, log, store, cluster } = base;
  const metrics = new Metrics();
  const failures = new ListenerFailures(log);
  listenerFailureMetrics(metrics.registry, failures);
  const urls = new ListenUrls(config);
  const parts: Parts = { ...base, metrics, failures, urls, captions: liveCaptions({ config, clock, log, failures, metrics }) };
  const planes = buildPlanes(parts);
  const { services, stage, origin, edge, bucket, leases } = planes;
  followStage(parts.captions, stage, store.captionsChoices(), log);
  const { app, stageApp } = await buildHttp(parts, planes);
  await bucket?.open();
  base.reportWith(() => ({
    url: urls.edge,
    listeners: edge.allListeners(),
    spaces: edge.listenersBySpace(),
    stageUrl: urls.stage,
  }));
  await cluster?.bridgeBus(services.plane.bus);
  // Embedded: every live Space reopens here. Cluster: the leases' first sweep takes those nobody holds.
  if (leases === undefined) await reopenLiveSpaces(store, stage, log);
  // Removals are for good: the edge's revocations come back from the database after a restart.
  for (const ban of await store.listActiveBans()) edge.revoke(ban.spaceId, ban.subject);
  const demo = config.demo.enabled
    ? await startDemo({
        plane: services.plane,
        stage,
        store,
        clock,
        failures,
        log: log.child({ plane: 'demo' }),
        title: config.demo.title,
        keepRecordingWindow: (spaceId) => origin.keepRecordingWindow(spaceId, config.demo.recordingWindowMinutes),
        ...(leases === undefined ? {} : { owns: leases.owns }),
      })
    : undefined;
  const forget = forgetTranscripts(store, log);
  const retention = retentionSweep(config.origin.retentionDays, origin, () => store.deletedReplays(), clock, log, forget);
  const close = once(async () => {
    log.info('amphi shutting down');
    demo?.close();
    retention.stop();
    stage.close();
    origin.close();
    edge.close(); // held streams end now, so the HTTP server can drain
    await bucket?.close(config.server.shutdownGraceMs / 2);
    await leases?.stop(); // after the last uploads: the next owner resumes from what the bucket has
    await stageApp.close();
    await app.close();
    await services.stop();
    await cluster?.close();
    await store.close();
    log.info('amphi stopped');
  });
  try {
    const { host } = config.server;
    await stageApp.listen({ host, port: config.stage.port });
    await app.listen({ host, port: config.server.port });
    urls.bound(portOf(app.server.address()), portOf(stageApp.server.address()));
    services.start();
    retention.start();
    await cluster?.start();
    await leases?.start();
    log.info(
      {
        url: urls.boundApi,
        stageUrl: urls.stage,
        storage: config.databaseUrl === null ? 'sqlite' : 'postgres',
        cluster: cluster?.nodeId ?? false,
        dataDir: config.dataDir,
      },
      'amphi listening',
    );
  } catch (error) {
    await close();
    throw error;
  }
  return { ...services, stage, origin, edge, live: planes.live, app, metrics, url: urls.boundApi, stageUrl: urls.stage, close };
}

/**
 * The planes, in dependency order, and the events between them. Signals that go back up the order
 * (how many listen, whether a recording exists) are functions read at request time, once all is built.
 */
function buildPlanes({ config, clock, log, signer, store, metrics, failures, urls, cluster, captions }: Parts) {
  const fleet = cluster?.fleet;
  const services = controlServices({
    config,
    store,
    notifyStore: store.notifications(),
    clock,
    signer,
    log,
    failures,
    metrics,
    urls: {
      edge: () => urls.edge,
      stage: cluster === undefined ? () => urls.stage : stageUrlFor(cluster, () => urls.stage, log),
      ...(fleet === undefined ? {} : { edges: () => fleet.chooseEdge() }),
    },
    recordings: (spaceId) => origin.recording(spaceId),
    prepareMedia: (spaceId) => origin.prepare(spaceId),
    // A live Space whose hosts all left the stage ends by itself (listeners are warned first).
    onStage: (spaceId) => stage.room(spaceId)?.connected() ?? [],
    admittedListeners: () => fleet?.listeners() ?? edge.allListeners(),
    listening: (spaceId, subject) => edge.listening(spaceId, subject),
    ...(cluster === undefined
      ? {}
      : {
          line: new RedisLineStore(cluster.redis),
          share: () => 1 / fleet!.doorNodes(),
          shared: cluster.shared,
          replay: cluster.replay,
        }),
  });
  const { plane, admission } = services;
  const leases: MediaLeases | undefined =
    cluster === undefined
      ? undefined
      : mediaLeases({
          cluster,
          store,
          clock,
          log,
          bus: plane.bus,
          ttlMs: config.cluster.leaseMs,
          planes: () => ({ stage, origin, bucket: bucket?.storage }),
        });
  const stage: StagePlane = new StagePlane({
    config: config.stage,
    clock,
    log: log.child({ plane: 'stage' }),
    signer,
    authority: stageAuthority(plane.spaces),
    bus: plane.bus,
    failures,
    ...(leases === undefined ? {} : { owns: leases.owns }),
  });
  const { media, bucket } = mediaStorage(config, clock, log.child({ plane: 'origin' }));
  if (bucket !== undefined) bucketMetrics(metrics.registry, bucket.storage);
  const origin = captionedOrigin(captions, {
    config: config.origin,
    storage: media,
    clock,
    log: log.child({ plane: 'origin' }),
    programBitrateBps: config.stage.programBitrateBps,
    preSkip: programEncoder(config.stage.programBitrateBps).lookahead,
    roomState: new RoomState(
      withCaptions(captions, async (spaceId) => ({
        ...roomStateView(spaceView(await plane.spaces.snapshot(spaceId), live)),
        // How much the server is shedding now (0 = nothing): players can say why reactions lag.
        degradation: admission.shedder.level,
      })),
      clock,
      () => admission.shedder.roomStateIntervalMs(ROOM_STATE_POLL_MS),
    ),
  });
  // The embedded edge reaches the origin in-process; `amphi edge` uses HTTP instead.
  const edge = new Edge({
    signer,
    clock,
    origin,
    log: log.child({ plane: 'edge' }),
    cacheMaxBytes: config.edge.cacheMaxBytes,
    tokenKeepAliveMs: config.edge.tokenKeepAliveMs,
    streamLimits: config.edge,
    listenerTokenTtlMs: config.tokens.listenerTokenTtlSeconds * 1000,
  });
  edgeMetrics(metrics.registry, edge);
  const live = liveSignals({ services, stage, origin, edge, fleet, clustered: cluster !== undefined });

  originMetrics(metrics.registry, origin);
  stageMetrics(metrics.registry, stage);

  stage.events.on('room', (room) => origin.attach(room.spaceId, room.program));
  // After the stage closed the room (and its program ended the track): a recording no room held is
  // finished here, so the replay exists even when the Space ends with nobody on stage.
  plane.bus.on('space.ended', ({ spaceId }) => {
    origin.finish(spaceId);
    edge.spaceEnded(spaceId);
  });
  // The host deleted the replay (on this node or, through the bus, another): its files go.
  plane.bus.on('recording.deleted', ({ spaceId }) => origin.deleteRecording(spaceId));
  // A removed listener loses the audio too, within the same tick (embedded edge; `amphi edge`
  // processes refuse them when their token expires, since renewal is refused).
  plane.bus.on('member.removed', ({ spaceId, accountId }) => edge.revoke(spaceId, accountId));
  plane.bus.on('member.unbanned', ({ spaceId, accountId }) => edge.reinstate(spaceId, accountId));
  // Finished recordings as one file each (GET /api/spaces/:id/recording.m4a), from the same storage.
  const downloads = new RecordingDownloads({
    storage: media,
    log: log.child({ plane: 'origin' }),
    preSkip: programEncoder(config.stage.programBitrateBps).lookahead,
  });
  return { services, stage, origin, edge, live, downloads, bucket, leases };
}

/**
 * The two listeners: the API port (control API, the listener door in front of it, the origin for
 * other edges, the web app) and the stage's own port. Built, not listening.
 */
async function buildHttp(parts: Parts, planes: ReturnType<typeof buildPlanes>) {
  const { config, clock, log, signer, store, metrics, urls } = parts;
  const { services, stage, origin, edge, live, downloads } = planes;
  const record = (route: string, method: string, status: number, seconds: number) =>
    metrics.http.record(route, method, status, seconds);
  const { limits } = config.admission;
  const door = listenerDoor(edge, {
    log: log.child({ plane: 'edge' }),
    clock,
    limits,
    record,
    trustProxy: config.server.trustProxy,
    authPerAddress: config.edge.authPerAddress,
  });
  const app = createHttpApp({
    log: log.child({ plane: 'control' }),
    limits,
    bodyLimitBytes: config.server.bodyLimitBytes,
    trustProxy: config.server.trustProxy,
    door: controlDoor(services, { config, metrics, log, record }, () => app, door.door),
    rawDoor: door.rawDoor,
    record,
  });
  // Built first: its listener is a component of the API's `/readyz`.
  const stageApp = createHttpApp({
    log: log.child({ plane: 'stage' }),
    limits: { ...limits, requestTimeoutMs: Math.max(limits.headersTimeoutMs, STAGE_REQUEST_TIMEOUT_MS) },
    bodyLimitBytes: STAGE_BODY_LIMIT_BYTES,
  });
  stageRoutes(stageApp, stage);
  await mountControl(app, services, {
    config,
    clock,
    metrics,
    store,
    log,
    live,
    checks: () => ({
      media: mediaCheck(origin.health),
      ...(planes.bucket === undefined ? {} : { bucket: bucketCheck(planes.bucket.storage.health) }),
      ...(parts.cluster === undefined ? {} : { keys: parts.cluster.keysCheck() }),
    }),
    ready: () => ({ stage: listeningReadiness('the stage (WHIP, stage.port)', stageApp.server) }),
    recordingFiles: downloads,
  });
  originRoutes(app, origin, signer, clock);
  mountCaptions(app, services.plane, config, parts.captions, clock);
  await webRoutes(app, {
    distDir: fileURLToPath(new URL('../../web/dist', import.meta.url)),
    origins: () => ({
      stage: urls.stage,
      ...(parts.cluster === undefined ? {} : { stages: mediaStages(parts.cluster) }),
      edges: [urls.edge, ...(parts.cluster?.fleet.edges().map((n) => n.url) ?? [])],
    }),
    log,
    pageHead: sharedPageHead({ plane: services.plane, live }),
    publicUrl: config.server.publicUrl,
  });
  return { app, stageApp };
}
