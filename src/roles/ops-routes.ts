import proxyAddr from '@fastify/proxy-addr';
import type { Registry } from 'prom-client';
import { AmphiError } from '../errors.ts';
import type { App } from '../lib/http-app.ts';
import type { Logger } from '../lib/logger.ts';

/** The operator's routes of a process: `/healthz` (storage reachable?) and `/metrics` (Prometheus text). */
export interface OpsDeps {
  readonly registry: Registry;
  readonly log: Logger;
  /** Checks storage; a role without a database leaves it out. */
  readonly ping?: () => Promise<void>;
  /** What else the role reports in `/healthz` (e.g. an edge's origin fetches). */
  readonly details?: () => Record<string, unknown>;
  /**
   * Parts that can fail while the process still serves (e.g. media storage): any that fails makes
   * the status `degraded` with its reason, still with a 200, since listeners are still served.
   */
  readonly checks?: () => Record<string, HealthCheck>;
  /**
   * Who may scrape `/metrics` (`server.metricsAllowFrom`): addresses, CIDRs or the names loopback,
   * linklocal, uniquelocal, matched against the client address (`request.ip`, proxy-aware). Metrics
   * name Spaces' load and the process's internals: not for the public. Default: loopback only.
   */
  readonly metricsAllowFrom?: readonly string[];
}

export type HealthCheck =
  { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly [detail: string]: unknown };

export function opsRoutes(
  app: App,
  { registry, log, ping, details = () => ({}), checks = () => ({}), metricsAllowFrom = ['loopback'] }: OpsDeps,
): void {
  const mayScrape = metricsAllowFrom.length === 0 ? () => false : proxyAddr.compile([...metricsAllowFrom]);
  const status = () => {
    const results = Object.entries(checks());
    const failing = Object.fromEntries(
      results.flatMap(([name, check]) => (check.ok ? [] : [[name, { ...check, ok: undefined }] as const])),
    );
    return Object.keys(failing).length === 0 ? { status: 'ok' } : { status: 'degraded', failing };
  };
  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
    if (ping === undefined) return { ...status(), ...details() };
    try {
      await ping();
      return { ...status(), storage: 'ok', ...details() };
    } catch (error) {
      log.warn({ err: error }, 'health check: storage unreachable');
      return reply.code(503).send({ status: 'degraded', storage: 'unreachable' });
    }
  });
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (!mayScrape(request.ip, 0)) throw new AmphiError('METRICS_FORBIDDEN');
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
