import proxyAddr from '@fastify/proxy-addr';
import type { Registry } from 'prom-client';
import { AmphiError } from '../errors.ts';
import type { App } from '../lib/http-app.ts';
import type { Logger } from '../lib/logger.ts';

/**
 * The operator's routes of a process: `/livez` (the event loop answers), `/readyz` (every component of
 * this role, each with its status), `/healthz` (the original check, kept as it was for existing probes)
 * and `/metrics` (Prometheus text). docs/observability.md says which to point what at.
 */
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
   * Components that only `/readyz` reports (it reports storage and `checks` too): e.g. admission not
   * shedding joins, an edge not draining. Any that fails makes `/readyz` a 503.
   */
  readonly ready?: () => Record<string, HealthCheck>;
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
  {
    registry,
    log,
    ping,
    details = () => ({}),
    checks = () => ({}),
    ready = () => ({}),
    metricsAllowFrom = ['loopback'],
  }: OpsDeps,
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
  // Liveness: answering at all is the answer. Nothing here may wait on a dependency, or a database
  // outage would get every process restarted.
  app.get('/livez', { schema: { hide: true } }, () => ({ status: 'alive' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const components: Record<string, HealthCheck> = {};
    if (ping !== undefined) components.storage = await pinged(ping, log);
    Object.assign(components, checks(), ready());
    const unready = Object.values(components).some((c) => !c.ok);
    return reply.code(unready ? 503 : 200).send({ status: unready ? 'unready' : 'ready', components });
  });
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (!mayScrape(request.ip, 0)) throw new AmphiError('METRICS_FORBIDDEN');
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}

/** The storage check as a component: a ping that throws (or hangs past the driver's timeout) fails it. */
async function pinged(ping: () => Promise<void>, log: Logger): Promise<HealthCheck> {
  try {
    await ping();
    return { ok: true };
  } catch (error) {
    log.warn({ err: error }, 'readiness: storage unreachable');
    return { ok: false, reason: `storage unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Admission as a component: not ready while its shedding level sends new joins to the waiting room. */
export function admissionReadiness(shedder: {
  readonly level: number;
  readonly current: { readonly joinsToWaitingRoom: boolean };
}): HealthCheck {
  return shedder.current.joinsToWaitingRoom
    ? { ok: false, reason: `shedding at level ${shedder.level}: new joins wait in line` }
    : { ok: true };
}

/**
 * A listener of this process as a component (the stage's WHIP port): ready while it accepts
 * connections; before it listens and once it has closed (shutting down), not.
 */
export function listeningReadiness(what: string, server: { readonly listening: boolean }): HealthCheck {
  return server.listening ? { ok: true } : { ok: false, reason: `${what} is not listening` };
}
