import type { Registry } from 'prom-client';
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
}

export type HealthCheck =
  { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly [detail: string]: unknown };

export function opsRoutes(app: App, { registry, log, ping, details = () => ({}), checks = () => ({}) }: OpsDeps): void {
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
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}
