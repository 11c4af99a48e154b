import type { LineStore } from '../admission/line-store.ts';
import { Admission, type AdmissionDeps, type LoadSignals } from '../admission/plane.ts';
import { AbandonmentWatch } from '../control/abandonment.ts';
import { admissionMetrics } from '../admission/metrics.ts';
import { mountControlApi } from '../control/http/api.ts';
import { captionsRoutes, type CaptionsToggle } from '../control/http/captions-routes.ts';
import { RequestAuth } from '../control/http/auth.ts';
import { joinDoor } from '../control/http/join-door.ts';
import type { RecordingFiles } from '../control/http/types.ts';
import type { LiveSignals } from '../control/http/views.ts';
import { sharedPageHead } from '../control/http/share.ts';
import { createControlPlane, type ControlDeps, type ControlPlane } from '../control/plane.ts';
import { createHttpApp, type App, type Door, type RecordResponse } from '../lib/http-app.ts';
import { RateLimiter } from '../lib/token-bucket.ts';
import type { Metrics } from './metrics.ts';
import { admissionReadiness, opsRoutes, type OpsDeps } from './ops-routes.ts';
import { webRoutes, type WebOrigins } from './web.ts';

/** What the control services are built from: the control plane's interfaces plus the process's metrics. */
export interface ControlParts extends ControlDeps {
  readonly metrics: Metrics;
  /** Listeners served now, over all Spaces (admission's listener capacity). */
  readonly admittedListeners: () => number;
  /** Overload signals for admission (default: this process's event-loop delay and CPU). */
  readonly load?: LoadSignals | undefined;
  /**
   * Accounts connected on a Space's stage, where this process runs the stage: live Spaces whose
   * hosts all left then end by themselves (`spaces.abandonedAfterMs`). Without it, none are watched.
   */
  readonly onStage?: ((spaceId: string) => readonly string[]) | undefined;
  /**
   * Whether this process's edge sees a subject listening to a Space now: such a renewal keeps its
   * place; any other renewal needs a free one. Without it every renewal takes a place (the safe side).
   */
  readonly listening?: ((spaceId: string, subject: string) => boolean) | undefined;
  /** The waiting room's shared store (cluster mode: Redis); default in-process. */
  readonly line?: LineStore | undefined;
  /** This node's share of the cluster's join rate (cluster mode: 1 / control nodes); default 1. */
  readonly share?: (() => number) | undefined;
  /** The proof-of-work replay check every node shares (cluster mode). */
  readonly replay?: AdmissionDeps['replay'] | undefined;
}

/** The control plane and the door in front of its joins. */
export interface ControlServices {
  readonly plane: ControlPlane;
  readonly admission: Admission;
  /** Ends live Spaces nobody hosts (when `onStage` was given). */
  readonly abandonment: AbandonmentWatch | undefined;
  /** Starts their timers (admission's load sampling): call when the process begins serving. */
  start(): void;
  /** Stops their timers and writes what they counted. Idempotent. */
  stop(): Promise<void>;
}

/** Builds the control plane and admission, and wires them to each other and to the metrics. */
export function controlServices(parts: ControlParts): ControlServices {
  const { config, clock, signer, log, metrics } = parts;
  const plane = createControlPlane({ ...parts, log: log.child({ plane: 'control' }) });
  const admission = new Admission({
    config: config.admission,
    clock,
    signer,
    log: log.child({ plane: 'admission' }),
    listeners: parts.admittedListeners,
    ...(parts.load === undefined ? {} : { load: parts.load }),
    ...(parts.listening === undefined ? {} : { listening: parts.listening }),
    ...(parts.line === undefined ? {} : { line: parts.line }),
    ...(parts.share === undefined ? {} : { share: parts.share }),
    ...(parts.replay === undefined ? {} : { replay: parts.replay }),
  });
  metrics.control.watch(plane.bus);
  admissionMetrics(metrics.registry, admission);
  plane.bus.on('space.ended', ({ spaceId }) => admission.rooms.delete(spaceId));
  const abandonment =
    parts.onStage === undefined
      ? undefined
      : new AbandonmentWatch({
          spaces: plane.spaces,
          clock,
          log: log.child({ plane: 'control' }),
          afterMs: config.spaces.abandonedAfterMs,
          onStage: parts.onStage,
        });
  let stopped = false;
  return {
    plane,
    admission,
    abandonment,
    start() {
      admission.start();
      plane.analytics.start();
      abandonment?.start();
      plane.notifier?.start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      abandonment?.stop();
      admission.close();
      await plane.close(); // writes the last analytics counts: before the store closes
    },
  };
}

/**
 * The control API's door: plain joins answered on the raw request before the framework
 * (`control/http/join-door.ts`), everything else handed on to `app`. `before`, another door (the
 * embedded mode's listener door), is asked first.
 */
export function controlDoor(
  services: ControlServices,
  parts: Pick<ControlParts, 'config' | 'metrics' | 'log'> & { readonly record: RecordResponse },
  app: () => App,
  before?: Door,
): Door {
  const joins = joinDoor({
    ...services,
    metrics: parts.metrics.control,
    config: parts.config,
    log: parts.log.child({ plane: 'control' }),
    record: parts.record,
    framework: (req, res) => app().routing(req, res),
  });
  return before === undefined ? joins : (req, res) => before(req, res) || joins(req, res);
}

/** Mounts the control API and the operator's routes (`/healthz`, `/metrics`) on an app. */
export async function mountControl(
  app: App,
  services: ControlServices,
  parts: Pick<ControlParts, 'config' | 'clock' | 'metrics' | 'store' | 'log' | 'shared'> & {
    readonly live: LiveSignals;
    readonly checks?: OpsDeps['checks'];
    /** Components only `/readyz` reports, besides storage, `checks` and admission (e.g. the stage listening). */
    readonly ready?: OpsDeps['ready'];
    readonly recordingFiles?: RecordingFiles | undefined;
  },
): Promise<void> {
  const { plane, admission } = services;
  const { config, clock, metrics } = parts;
  plane.analytics.watch((spaceId) => parts.live.listeners(spaceId));
  await mountControlApi(app, {
    admission,
    plane,
    auth: new RequestAuth(plane.accounts, config.auth.secureCookies),
    clock,
    config,
    authLimiter:
      parts.shared?.limiter('auth', config.rateLimits.authPerAddress) ?? new RateLimiter(config.rateLimits.authPerAddress, clock),
    metrics: metrics.control,
    live: parts.live,
    recordingFiles: parts.recordingFiles,
  });
  opsRoutes(app, {
    registry: metrics.registry,
    log: parts.log,
    ping: () => parts.store.ping(),
    metricsAllowFrom: config.server.metricsAllowFrom,
    ...(parts.checks === undefined ? {} : { checks: parts.checks }),
    ready: () => ({ admission: admissionReadiness(admission.shedder), ...parts.ready?.() }),
  });
}

/** The control role's HTTP app, built and ready but not listening. */
export interface ControlApp extends ControlServices {
  readonly app: App;
  readonly metrics: Metrics;
  /** The live signals the public view reads. */
  readonly live: LiveSignals;
}

/** What a control node without media planes adds: the fleet's listener counts, checks, the web app. */
export interface ControlAppExtras {
  /** Listeners over the fleet's edges (default 0: no edge known). */
  readonly admittedListeners?: () => number;
  /** One Space's listeners over the fleet's edges (default 0). */
  readonly spaceListeners?: (spaceId: string) => number;
  readonly checks?: OpsDeps['checks'];
  /** `PUT /api/spaces/:id/captions`, passed on to the media node holding the Space (cluster mode). */
  readonly captions?: CaptionsToggle;
  /** Serves the web app too, from this built directory, with these origins in its CSP. */
  readonly web?: { readonly distDir: string; readonly origins: () => WebOrigins } | undefined;
}

/**
 * The control role on its own: the API, the door for joins, health and metrics, without media planes
 * (speaking and recordings read as empty). The API tests run it in-process; cluster mode's `amphi
 * control` (control-node.ts) is this over PostgreSQL and Redis.
 */
export async function buildControlApp(parts: Omit<ControlParts, 'admittedListeners'> & ControlAppExtras): Promise<ControlApp> {
  const services = controlServices({ ...parts, admittedListeners: parts.admittedListeners ?? (() => 0) });
  const live: LiveSignals = {
    reactionCounts: (id) => services.plane.reactions.counts(id),
    speaking: () => [],
    listeners: parts.spaceListeners ?? (() => 0),
    recording: parts.recordings ?? (() => undefined),
    endsAt: (id) => services.abandonment?.endsAt(id),
    backstage: () => undefined, // no stage in this process: the media node's room state says
  };
  const log = parts.log.child({ plane: 'control' });
  const record = (route: string, method: string, status: number, seconds: number) =>
    parts.metrics.http.record(route, method, status, seconds);
  const app: App = createHttpApp({
    log,
    limits: parts.config.admission.limits,
    bodyLimitBytes: parts.config.server.bodyLimitBytes,
    trustProxy: parts.config.server.trustProxy,
    door: controlDoor(services, { ...parts, record }, () => app),
    record,
  });
  app.addHook('onClose', async () => {
    await services.stop();
  });
  await mountControl(app, services, { ...parts, live });
  if (parts.captions !== undefined) captionsRoutes(app, { plane: services.plane, config: parts.config }, parts.captions);
  if (parts.web !== undefined) {
    const { distDir, origins } = parts.web;
    const pageHead = sharedPageHead({ plane: services.plane, live });
    await webRoutes(app, { distDir, origins, log: parts.log, pageHead, publicUrl: parts.config.server.publicUrl });
  }
  await app.ready();
  services.start();
  return { ...services, app, metrics: parts.metrics, live };
}
