import { collectDefaultMetrics, Registry } from 'prom-client';
import { ControlMetrics } from '../control/metrics.ts';
import { HttpStats } from '../lib/metrics.ts';

/**
 * prom-client's defaults that break the exposition format's rules (`promtool check metrics`): gauges
 * named `_total`. Each is the sum of its labelled twin (`amphi_nodejs_active_handles{type}`), so
 * `sum(amphi_nodejs_active_handles)` says the same.
 */
const DROPPED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

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
    for (const name of DROPPED_DEFAULTS) this.registry.removeSingleMetric(`amphi_${name}`);
    for (const metric of this.http.metrics()) this.registry.registerMetric(metric);
  }
}
