import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { Admission } from '../admission/plane.ts';
import type { Edge } from '../edge/edge.ts';

/**
 * Prometheus metrics, one registry per server so tests can run several in one process. Names follow
 * `amphi_<plane>_<what>_<unit>`.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly http = new HttpStats();
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
    for (const metric of this.http.metrics()) this.registry.registerMetric(metric);
  }

  /** A gauge read at scrape time: nothing is counted on the hot path. */
  #gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** The edge's audience and cache, read at scrape time. */
  watchEdge(edge: Edge): void {
    this.#gauge('amphi_edge_listeners', 'Distinct listeners at this edge (held streams and recent LL-HLS requests)', () =>
      edge.allListeners(),
    );
    this.#gauge('amphi_edge_stream_listeners', 'Listeners holding a live.mp4 stream at this edge', () => edge.streaming);
    this.#gauge('amphi_edge_origin_fetches', 'Origin fetches since start (one per object per edge)', () => edge.originFetches);
  }

  /** The door's state, read at scrape time: degradation level, effective capacity, what it decided. */
  watchAdmission(admission: Admission): void {
    this.#gauge(
      'amphi_admission_degradation_level',
      'Shedding level: 0 = none; higher sheds reactions, room state, then joins',
      () => admission.shedder.level,
    );
    this.#gauge(
      'amphi_admission_capacity_factor',
      'Share of configured join capacity in effect (AIMD on load signals)',
      () => admission.capacity.factor,
    );
    this.#gauge(
      'amphi_admission_joins_per_second',
      'Effective join capacity, joins per second',
      () => admission.capacity.joinsPerSecond,
    );
    this.#gauge(
      'amphi_admission_listeners',
      'Listeners served now, as admission counts them',
      () => admission.capacity.listeners,
    );
    const counts = admission.counts;
    new Counter({
      name: 'amphi_admission_join_decisions_total',
      help: 'Join attempts and what the door did with them (attempts, admitted, tickets, exchanged, challenges)',
      labelNames: ['decision'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [decision, value] of Object.entries(counts)) this.inc({ decision }, value);
      },
    });
  }
}

const durationBucketsSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

interface RequestSeries {
  readonly labels: { route: string; method: string; status: string };
  count: number;
}
interface DurationSeries {
  readonly labels: { route: string; method: string };
  readonly buckets: number[];
  count: number;
  sum: number;
}

/**
 * Per-request counters and a duration histogram kept in plain maps and turned into Prometheus text
 * only at scrape time. prom-client's labelled `inc`/`observe` hash their labels on every call, which
 * cost about 7 us per request (~9% of a join); here a request costs two Map lookups.
 */
export class HttpStats {
  #requests = new Map<string, RequestSeries>();
  #durations = new Map<string, DurationSeries>();

  record(route: string, method: string, status: number, seconds: number): void {
    const key = `${method} ${route}`;
    const requestKey = `${key} ${status}`;
    let r = this.#requests.get(requestKey);
    if (r === undefined) {
      r = { labels: { route, method, status: String(status) }, count: 0 };
      this.#requests.set(requestKey, r);
    }
    r.count++;
    let d = this.#durations.get(key);
    if (d === undefined) {
      d = { labels: { route, method }, buckets: durationBucketsSeconds.map(() => 0), count: 0, sum: 0 };
      this.#durations.set(key, d);
    }
    d.count++;
    d.sum += seconds;
    const i = durationBucketsSeconds.findIndex((le) => seconds <= le);
    if (i >= 0) d.buckets[i]!++;
  }

  /** The two metrics in the shape a prom-client registry scrapes. */
  metrics(): Metric[] {
    const requests = {
      name: 'amphi_control_http_requests_total',
      help: 'Control API requests by route, method and status',
      type: 'counter',
      get: () =>
        Promise.resolve({
          name: requests.name,
          help: requests.help,
          type: 'counter',
          values: [...this.#requests.values()].map((s) => ({ labels: s.labels, value: s.count })),
          aggregator: 'sum',
        }),
    };
    const durations = {
      name: 'amphi_control_http_request_duration_seconds',
      help: 'Control API request duration',
      type: 'histogram',
      get: () =>
        Promise.resolve({
          name: durations.name,
          help: durations.help,
          type: 'histogram',
          values: [...this.#durations.values()].flatMap((s) => {
            let cumulative = 0;
            const buckets = durationBucketsSeconds.map((le, i) => {
              cumulative += s.buckets[i]!;
              return { labels: { ...s.labels, le }, value: cumulative, metricName: `${durations.name}_bucket` };
            });
            return [
              ...buckets,
              { labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${durations.name}_bucket` },
              { labels: s.labels, value: s.sum, metricName: `${durations.name}_sum` },
              { labels: s.labels, value: s.count, metricName: `${durations.name}_count` },
            ];
          }),
          aggregator: 'sum',
        }),
    };
    // prom-client scrapes any object with this shape; its Metric type names only its own classes.
    return [requests, durations] as unknown as Metric[];
  }
}
