import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.ts';
import { Edge } from '../edge/edge.ts';
import { listenerDoor } from '../edge/http.ts';
import { edgeMetrics } from '../edge/metrics.ts';
import { HttpOriginClient } from '../edge/origin-client.ts';
import { AmphiError } from '../errors.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { createHttpApp } from '../lib/http-app.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { TokenSigner } from '../lib/signed-token.ts';
import { Metrics } from './metrics.ts';
import { opsRoutes } from './ops-routes.ts';

export interface RunningEdge {
  readonly url: string;
  readonly edge: Edge;
  close(): Promise<void>;
}

/**
 * The edge role (`amphi edge --origin URL`): the edge on its own, for as many processes and machines
 * as the audience needs. It holds no database: it verifies listener tokens with the shared key and
 * fetches from the origin with an edge credential signed by the same key.
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
  const metrics = new Metrics();
  const edge = new Edge({
    signer,
    clock,
    origin: new HttpOriginClient(config.edge.originUrl, signer, clock),
    log,
    cacheMaxBytes: config.edge.cacheMaxBytes,
    tokenKeepAliveMs: config.edge.tokenKeepAliveMs,
    streamLimits: config.edge,
    listenerTokenTtlMs: config.tokens.listenerTokenTtlSeconds * 1000,
    // No control bus reaches a separate edge yet (cluster mode part 1): tokens end at their expiry.
    followsRemovals: false,
  });
  edgeMetrics(metrics.registry, edge);
  const record = (route: string, method: string, status: number, seconds: number) =>
    metrics.http.record(route, method, status, seconds);
  const app = createHttpApp({
    log,
    limits: config.admission.limits,
    bodyLimitBytes: config.server.bodyLimitBytes,
    trustProxy: config.server.trustProxy,
    door: listenerDoor(edge, {
      log,
      clock,
      limits: config.admission.limits,
      record,
      trustProxy: config.server.trustProxy,
      authPerAddress: config.edge.authPerAddress,
    }),
    record,
  });
  opsRoutes(app, {
    registry: metrics.registry,
    log,
    details: () => ({ role: 'edge', originFetches: edge.originFetches }),
    metricsAllowFrom: config.server.metricsAllowFrom,
  });
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
