import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics, one registry per server so tests can run several in one process. Names follow
 * `amphi_<plane>_<what>_<unit>`.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'amphi_control_http_requests_total',
    help: 'Control API requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'amphi_control_http_request_duration_seconds',
    help: 'Control API request duration',
    labelNames: ['route', 'method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly tokensIssued = new Counter({
    name: 'amphi_control_tokens_issued_total',
    help: 'Signed credentials issued, by kind (listener, stage)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly spaceTransitions = new Counter({
    name: 'amphi_control_space_transitions_total',
    help: 'Space lifecycle transitions, by new state',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'amphi_' });
  }
}
