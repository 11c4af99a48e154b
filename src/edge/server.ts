import Fastify, { LogController } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.ts';
import { AmphiError } from '../errors.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { errorHandler } from '../lib/http-errors.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { TokenSigner } from '../lib/signed-token.ts';
import { Edge } from './edge.ts';
import { HttpOriginClient } from './origin-client.ts';
import { doorServer, listenerDoor } from './http.ts';

export interface RunningEdge {
  readonly url: string;
  readonly edge: Edge;
  close(): Promise<void>;
}

/**
 * `amphi edge --origin URL`: the edge on its own, for as many processes and machines as the audience
 * needs. It holds no database: it verifies listener tokens with the shared key and fetches from the
 * origin with an edge credential signed by the same key.
 */
export async function startEdge(config: Readonly<Config>, options: { clock?: Clock; log?: Logger } = {}): Promise<RunningEdge> {
  const clock = options.clock ?? systemClock;
  const log = (options.log ?? createLogger(config.log.level)).child({ plane: 'edge' });
  if (config.tokens.signingKey === null) {
    throw new AmphiError('EDGE_CREDENTIAL_INVALID', {
      details: 'set AMPHI_SIGNING_KEY (tokens.signingKey) to the key the origin uses',
    });
  }
  if (config.edge.originUrl === null)
    throw new AmphiError('EDGE_CREDENTIAL_INVALID', { details: 'set --origin URL (edge.originUrl)' });
  const signer = new TokenSigner([{ id: 'cfg', secret: config.tokens.signingKey }]);
  const edge = new Edge({
    signer,
    clock,
    origin: new HttpOriginClient(config.edge.originUrl, signer, clock),
    log,
    cacheMaxBytes: config.edge.cacheMaxBytes,
  });
  const door = listenerDoor(edge, { log, clock, limits: config.admission.limits, trustProxy: config.server.trustProxy });
  const app = Fastify({
    serverFactory: doorServer(config.admission.limits, door),
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: 4096 },
    return503OnClosing: true,
    frameworkErrors: (error, request, reply) => {
      void errorHandler(error, request, reply);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler(errorHandler);
  app.get('/healthz', () => ({ status: 'ok', role: 'edge', originFetches: edge.originFetches }));
  await app.listen({ host: config.server.host, port: config.server.port });
  const port = (app.server.address() as AddressInfo).port;
  const url = `http://${config.server.host}:${port}`;
  log.info({ url, origin: config.edge.originUrl }, 'amphi edge listening');
  return {
    url,
    edge,
    close: () => {
      edge.close(); // held streams end now, so the HTTP server can drain
      return app.close();
    },
  };
}
