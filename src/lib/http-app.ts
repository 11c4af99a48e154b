import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  LogController,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rawDoorInFront, type RawDoor } from './raw-request.ts';
import { RouteMirror } from './route-mirror.ts';
import { AmphiError } from '../errors.ts';
import { trustedHop, type TrustProxy } from './client-address.ts';
import { errorHandler } from './http-errors.ts';
import type { Logger } from './logger.ts';

/** The Fastify instance every plane mounts its routes on: TypeBox schemas give typed requests. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  Logger,
  TypeBoxTypeProvider
>;

/** A request handler that answers some requests itself (before the framework) and returns false for the rest. */
export type Door = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Called once per answered request, for the HTTP metrics. */
export type RecordResponse = (route: string, method: string, status: number, seconds: number) => void;

/** What a listening socket tolerates: connections, and deadlines against slow senders. */
export interface ServerLimits {
  readonly maxConnections: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

export interface HttpAppOptions {
  readonly log: Logger;
  readonly limits: ServerLimits;
  readonly bodyLimitBytes: number;
  /** Behind a proxy: which X-Forwarded-For entries name the client (`server.trustProxy`). */
  readonly trustProxy?: TrustProxy;
  /** Requests answered before the framework (the listener door); false passes them on. */
  readonly door?: Door | undefined;
  /** A fresh connection's first request, offered before the HTTP server owns it (held `live.mp4` streams). */
  readonly rawDoor?: RawDoor | undefined;
  /** Every request the framework answers is recorded here. */
  readonly record?: RecordResponse | undefined;
}

/**
 * The one HTTP application every Amphi listener runs (control API, stage, edge), so all of them share
 * the error shape, the not-found answer, body limits, deadlines and logging. It mounts no routes.
 */
export function createHttpApp(options: HttpAppOptions): App {
  let closing = false;
  // Listener URLs carry a signed token (~150 characters) as a path segment.
  const routerOptions = { maxParamLength: 4096 };
  const routes = new RouteMirror(routerOptions);
  const app = Fastify({
    serverFactory: guardedServer(options, routes, () => closing),
    loggerInstance: options.log,
    // One log line per lifecycle transition, not two per request: the join path must stay cheap.
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors: (error, request, reply) => {
      void errorHandler(error, request, reply);
    },
    bodyLimit: options.bodyLimitBytes,
    routerOptions,
    trustProxy: trustedHop(options.trustProxy ?? false),
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Every route, as it is registered (plugins' prefixes included), copied into the mirror.
  app.addHook('onRoute', (route) => routes.add(route.method, route.url));
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((_request, reply) => {
    const e = new AmphiError('ROUTE_NOT_FOUND');
    return reply.code(e.status).send(e.toBody());
  });
  const record = options.record;
  if (record !== undefined) {
    app.addHook('onResponse', (request, reply, done) => {
      record(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }
  return app;
}

/**
 * The HTTP server behind every listener (Fastify's `serverFactory`): connection cap, header and request
 * deadlines against slow senders (slowloris), small header limit; the door first, then the framework
 * for everything the door passes on.
 */
function guardedServer(options: HttpAppOptions, routes: RouteMirror, closing: () => boolean) {
  const { limits, door, rawDoor, record } = options;
  return (handler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    const server = createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        // Deadlines are enforced on this sweep: at Node's default (30 s) a slow sender outlives its deadline.
        connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
        maxHeaderSize: 16_384,
      },
      (req, res) => {
        // Once the server is closing, the framework answers everything (503, Connection: close), so
        // kept-alive listener connections drain instead of holding the shutdown open.
        if (closing()) handler(req, res);
        else if (door?.(req, res) === true) return;
        else if (routes.routable(req.method ?? 'GET', req.url ?? '/')) handler(req, res);
        else notFound(req, res, record);
      },
    );
    server.maxConnections = limits.maxConnections;
    if (rawDoor !== undefined)
      rawDoorInFront(server, (socket, request) => !closing() && rawDoor(socket, request), limits.headersTimeoutMs);
    return server;
  };
}

const NOT_FOUND = Buffer.from(JSON.stringify(new AmphiError('ROUTE_NOT_FOUND').toBody()));
const NOT_FOUND_HEADERS = ['content-type', 'application/json; charset=utf-8', 'content-length', String(NOT_FOUND.length)];

/** The framework's not-found answer (the same status and body), written without the framework. */
function notFound(req: IncomingMessage, res: ServerResponse, record: RecordResponse | undefined): void {
  const started = performance.now();
  res.writeHead(404, NOT_FOUND_HEADERS);
  res.end(NOT_FOUND);
  record?.('unmatched', req.method ?? 'GET', 404, (performance.now() - started) / 1000);
}
