import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.ts';
import { every, systemClock, type Clock } from '../lib/clock.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { TokenSigner } from '../lib/signed-token.ts';
import { Edge } from '../edge/edge.ts';
import { listenerDoor } from '../edge/http.ts';
import { OriginPlane } from '../origin/plane.ts';
import { RoomState, type RoomStateSource } from '../origin/room-state.ts';
import { originRoutes } from '../origin/routes.ts';
import { spaceView } from '../control/http/views.ts';
import { AmphiError } from '../errors.ts';
import { FileMediaStorage } from '../origin/storage.ts';
import { buildStageHttp } from '../stage/http.ts';
import { programEncoder } from '../stage/room.ts';
import { StagePlane } from '../stage/plane.ts';
import type { Shedder } from '../admission/shedding.ts';
import { openStore } from '../storage/open.ts';
import { buildApp, type Amphi } from './app.ts';
import { loadSigningKey } from './keys.ts';
import { startDemo } from './demo.ts';
import { stageAuthority } from './stage-authority.ts';
import { webRoutes } from './web.ts';

/** How often a held room-state request re-reads the document (multiplied under overload). */
const ROOM_STATE_POLL_MS = 250;

/** How often expired sessions are deleted from storage. */
const SESSION_SWEEP_MS = 3_600_000;

export interface RunningServer extends Amphi {
  readonly origin: OriginPlane;
  readonly edge: Edge;
  /** The API URL, with the real port when port 0 was asked for. */
  readonly url: string;
  /** The stage's own listener (WHIP). */
  readonly stageUrl: string;
  readonly stage: StagePlane;
  /** Stops accepting, closes the stage, drains in-flight requests, closes storage. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts Amphi in the embedded mode: every plane in this process, SQLite unless DATABASE_URL is set.
 * The API and the stage listen on separate ports, so audience traffic never queues in front of a
 * host going live.
 */
export async function startServer(
  config: Readonly<Config>,
  options: { clock?: Clock; log?: Logger } = {},
): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger(config.log.level);
  const signer = new TokenSigner([loadSigningKey(config.tokens.signingKey, config.dataDir)]);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, nowMs: clock.now() });
  const { host } = config.server;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  // With port 0 the real ports are known only after listen; URLs are read per use.
  let apiUrl = config.server.publicUrl ?? `http://${hostPart}:${config.server.port}`;
  let stageUrl = config.stage.publicUrl ?? `http://${hostPart}:${config.stage.port}`;
  let stage: StagePlane | undefined;
  // The room state reads the control plane's view, which exists once the app is built.
  let shedder: Shedder | undefined;
  let roomSource: RoomStateSource = () => Promise.reject(new AmphiError('SPACE_NOT_FOUND'));
  const origin = new OriginPlane({
    config: config.origin,
    storage: new FileMediaStorage(join(config.dataDir, 'media')),
    clock,
    log: log.child({ plane: 'origin' }),
    programBitrateBps: config.stage.programBitrateBps,
    preSkip: programEncoder(config.stage.programBitrateBps).lookahead,
    roomState: new RoomState(
      (spaceId) => roomSource(spaceId),
      clock,
      () => shedder?.roomStateIntervalMs(ROOM_STATE_POLL_MS) ?? ROOM_STATE_POLL_MS,
    ),
  });
  // Embedded mode: the edge reaches the origin in-process; `amphi edge` would use HTTP instead.
  const edge = new Edge({
    signer,
    clock,
    origin: { get: (spaceId, file, query) => origin.get(spaceId, file, query) },
    log: log.child({ plane: 'edge' }),
    cacheMaxBytes: config.edge.cacheMaxBytes,
  });

  let amphi: Amphi;
  let stageHttp: ReturnType<typeof buildStageHttp>;
  try {
    amphi = await buildApp({
      config,
      store,
      clock,
      signer,
      log,
      urls: { edge: () => config.edge.publicUrl ?? apiUrl, stage: () => stageUrl },
      speaking: (spaceId) => stage?.levels(spaceId) ?? [],
      listeners: (spaceId) => edge.listeners(spaceId),
      admittedListeners: () => edge.allListeners(),
      recordings: (spaceId) => origin.recording(spaceId),
      door: (record) =>
        listenerDoor(edge, {
          log: log.child({ plane: 'edge' }),
          clock,
          limits: config.admission.limits,
          record,
          trustProxy: config.server.trustProxy,
        }),
      extraRoutes: [
        (app) => originRoutes(app, origin, signer, clock),
        (app) => webRoutes(app, fileURLToPath(new URL('../../web/dist', import.meta.url)), log),
      ],
    });
    stage = new StagePlane({
      config: config.stage,
      clock,
      log: log.child({ plane: 'stage' }),
      signer,
      authority: stageAuthority(amphi.plane.spaces),
      bus: amphi.plane.bus,
    });
    stage.events.on('room', (room) => origin.attach(room.spaceId, room.program));
    // A removed listener loses the audio too, within the same tick (embedded edge; `amphi edge`
    // processes refuse them when their token expires, since renewal is refused).
    amphi.plane.bus.on('member.removed', ({ spaceId, accountId }) => edge.revoke(spaceId, accountId));
    const built = amphi;
    shedder = built.admission.shedder;
    roomSource = async (spaceId) => ({
      ...roomStateOf(spaceView(await built.plane.spaces.snapshot(spaceId), built.live)),
      // How much the server is shedding now (0 = nothing): players can say why reactions lag.
      degradation: built.admission.shedder.level,
    });
    stageHttp = buildStageHttp(stage, log.child({ plane: 'stage' }));
    await stageHttp.listen({ host, port: config.stage.port });
    await amphi.app.listen({ host, port: config.server.port });
  } catch (error) {
    stage?.close();
    await store.close();
    throw error;
  }
  const url = `http://${hostPart}:${portOf(amphi.app.server.address())}`;
  if (config.server.publicUrl === null) apiUrl = url;
  if (config.stage.publicUrl === null) stageUrl = `http://${hostPart}:${portOf(stageHttp.server.address())}`;
  log.info(
    { url, stageUrl, storage: config.databaseUrl === null ? 'sqlite' : 'postgres', dataDir: config.dataDir },
    'amphi listening',
  );

  const demo = config.demo.enabled
    ? await startDemo({ plane: amphi.plane, stage, store, clock, log: log.child({ plane: 'demo' }), title: config.demo.title })
    : undefined;

  const stopSweeping = every(
    clock,
    SESSION_SWEEP_MS,
    async () => {
      const removed = await store.deleteExpiredSessions(clock.now());
      if (removed > 0) log.info({ removed }, 'expired sessions deleted');
    },
    (error) => log.warn({ err: error }, 'session sweep failed'),
  );

  amphi.metrics.watchEdge(edge);
  const running = stage;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      log.info('amphi shutting down');
      stopSweeping();
      demo?.close();
      running.close();
      origin.close();
      edge.close(); // held streams end now, so the HTTP server can drain
      await stageHttp.close();
      await amphi.app.close();
      await store.close();
      log.info('amphi stopped');
    })());
  return { ...amphi, url, stageUrl, stage: running, origin, edge, close };
}

/** What listeners poll: the parts of the public view that change during a Space. */
function roomStateOf(view: ReturnType<typeof spaceView>) {
  const { state, title, stage, listenerCount, reactions, pinnedLink, replay } = view;
  // Levels change every tick; listeners need who is speaking, so only the flag is in the document
  // (keeping levels made its version change on every poll and quadrupled the long-poll traffic).
  const speakers = stage.map((m) => ({
    id: m.id,
    handle: m.handle,
    role: m.role,
    muted: m.muted,
    mutedByHost: m.mutedByHost,
    speaking: m.speaking,
  }));
  return { status: state, title, stage: speakers, listenerCount, reactions, pinnedLink, replay };
}

function portOf(address: string | AddressInfo | null): number {
  return typeof address === 'object' && address !== null ? address.port : 0;
}
