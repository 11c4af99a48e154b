import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController } from 'fastify';
import { accountRoutes } from '../control/http/accounts-routes.ts';
import { RequestAuth } from '../control/http/auth.ts';
import { Account, ErrorResponse, Space } from '../control/http/schemas.ts';
import { spaceRoutes } from '../control/http/spaces-routes.ts';
import { stageRoutes } from '../control/http/stage-routes.ts';
import type { App, RouteContext } from '../control/http/types.ts';
import type { LiveSignals } from '../control/http/views.ts';
import { createControlPlane, type ControlDeps, type ControlPlane } from '../control/plane.ts';
import { AmphiError } from '../errors.ts';
import { RateLimiter } from '../lib/token-bucket.ts';
import { errorHandler } from '../lib/http-errors.ts';
import { doorServer, type Door, type RecordResponse } from '../edge/http.ts';
import { Metrics } from './metrics.ts';
import { Admission, type LoadSignals } from '../admission/plane.ts';

/** The control plane's dependencies, plus the live signals other planes feed into the public view. */
export interface AppDeps extends ControlDeps {
  readonly speaking?: LiveSignals['speaking'];
  readonly listeners?: LiveSignals['listeners'];
  /** Other planes' routes on this listener (the origin, the web app). */
  readonly extraRoutes?: readonly ((app: App) => void | Promise<void>)[];
  /** Overload signals for admission (default: this process's event-loop delay and CPU). */
  readonly load?: LoadSignals;
  /** Listeners this process serves now, over all Spaces (admission's listener capacity). */
  readonly admittedListeners?: () => number;
  /** Requests answered before the framework (the embedded edge's listener door); false passes them on. */
  readonly door?: (record: RecordResponse) => Door;
}

export interface Amphi {
  readonly app: App;
  readonly admission: Admission;
  readonly plane: ControlPlane;
  readonly metrics: Metrics;
  /** The live signals the public view reads; the room state document reads the same. */
  readonly live: LiveSignals;
}

/** Builds the HTTP application: control API, OpenAPI, health and metrics. It does not listen. */
export async function buildApp(deps: AppDeps): Promise<Amphi> {
  const { config, store, clock } = deps;
  const log = deps.log.child({ plane: 'control' });
  const metrics = new Metrics();
  const door = deps.door?.((route, method, status, seconds) => metrics.http.record(route, method, status, seconds));
  const app = Fastify({
    serverFactory: doorServer(config.admission.limits, door),
    loggerInstance: log,
    // One log line per lifecycle transition, not two per request: the join path must stay cheap.
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors: (error, request, reply) => {
      void errorHandler(error, request, reply);
    },
    bodyLimit: config.server.bodyLimitBytes,
    // Listener URLs carry a signed token (~150 characters) as a path segment.
    routerOptions: { maxParamLength: 4096 },
    trustProxy: config.server.trustProxy,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const plane = createControlPlane({ ...deps, log });
  plane.bus.on('space.started', () => metrics.spaceTransitions.inc({ state: 'live' }));
  plane.bus.on('space.ended', () => metrics.spaceTransitions.inc({ state: 'ended' }));

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((_request, reply) => {
    const e = new AmphiError('ROUTE_NOT_FOUND');
    return reply.code(e.status).send(e.toBody());
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.http.record(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  await app.register(cookie);
  await app.register(swagger, {
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Amphi control API',
        version: '1',
        description: 'Accounts, Spaces, roles on stage, joining as a listener. Errors: docs/errors.md.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'Session token from POST /api/sessions' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'amphi_session' },
        },
      },
      security: [{ bearer: [] }, { cookie: [] }, {}],
    },
  });
  for (const schema of [ErrorResponse, Account, Space]) app.addSchema(schema);

  const admission = new Admission({
    config: config.admission,
    clock,
    signer: deps.signer,
    log: deps.log.child({ plane: 'admission' }),
    listeners: deps.admittedListeners ?? (() => 0),
    ...(deps.load === undefined ? {} : { load: deps.load }),
  });
  app.addHook('onClose', (_instance, done) => {
    admission.close();
    done();
  });
  plane.bus.on('space.ended', ({ spaceId }) => admission.rooms.delete(spaceId));
  metrics.watchAdmission(admission);
  const context: RouteContext = {
    admission,
    plane,
    auth: new RequestAuth(plane.accounts, config.auth.secureCookies),
    clock,
    config,
    authLimiter: new RateLimiter(config.rateLimits.authPerAddress, clock),
    metrics,
    live: {
      reactionCounts: (id) => plane.reactions.counts(id),
      speaking: deps.speaking ?? (() => []),
      listeners: deps.listeners ?? (() => 0),
      recording: deps.recordings ?? (() => undefined),
    },
  };
  accountRoutes(app, context);
  spaceRoutes(app, context);
  stageRoutes(app, context);
  for (const mount of deps.extraRoutes ?? []) await mount(app);

  app.get('/api/openapi.json', { schema: { hide: true } }, () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await store.ping();
      return { status: 'ok', storage: 'ok' };
    } catch (error) {
      log.warn({ err: error }, 'health check: storage unreachable');
      return reply.code(503).send({ status: 'degraded', storage: 'unreachable' });
    }
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  await app.ready();
  return { app, plane, metrics, live: context.live, admission };
}
