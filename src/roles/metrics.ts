import { collectDefaultMetrics, Registry } from 'prom-client';
import { ControlMetrics } from '../control/metrics.ts';
import { HttpStats } from '../lib/metrics.ts';

/**
 * A process's Prometheus registry (one per process, so tests can run several in one): Node's own
 * series, the HTTP stats and the control plane's series; other planes add theirs with their own
 * `*Metrics(registry, …)` function. Names follow `amphi_<plane>_<what>_<unit>`.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly http = new HttpStats();
  readonly control = new ControlMetrics(this.registry);

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'amphi_' });
    for (const metric of this.http.metrics()) this.registry.registerMetric(metric);
  }
}
