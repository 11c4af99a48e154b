import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import type { ListenerFailures } from './typed-emitter.ts';

/** A gauge read at scrape time: nothing is counted on the hot path. */
export function scrapeGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** Event listeners that threw, by emitter and event (each one is logged too). */
export function listenerFailureMetrics(registry: Registry, failures: ListenerFailures): void {
  new Counter({
    name: 'amphi_event_listener_failures_total',
    help: 'Event listeners that threw (a bus subscriber, a recording write on the program stream), by emitter and event',
    labelNames: ['emitter', 'event'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { emitter, event, count } of failures.counts()) this.inc({ emitter, event }, count);
    },
  });
}

const durationBucketsSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

interface RequestSeries {
  readonly labels: { route: string; method: string; status: string };
  count: number;
}
interface MethodSeries {
  readonly duration: DurationSeries;
  readonly byStatus: Map<number, RequestSeries>;
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
 * cost about 7 us per request (~9% of a join); here a request costs three Map lookups by the strings
 * it was given (routes and methods are constants: their hashes are cached), no label string built.
 */
export class HttpStats {
  #requests: RequestSeries[] = [];
  #durations: DurationSeries[] = [];
  /** route, then method: the duration series and the request series by status. */
  #byRoute = new Map<string, Map<string, MethodSeries>>();

  record(route: string, method: string, status: number, seconds: number): void {
    let byMethod = this.#byRoute.get(route);
    if (byMethod === undefined) this.#byRoute.set(route, (byMethod = new Map<string, MethodSeries>()));
    let series = byMethod.get(method);
    if (series === undefined) {
      const duration = { labels: { route, method }, buckets: durationBucketsSeconds.map(() => 0), count: 0, sum: 0 };
      this.#durations.push(duration);
      byMethod.set(method, (series = { duration, byStatus: new Map<number, RequestSeries>() }));
    }
    let r = series.byStatus.get(status);
    if (r === undefined) {
      r = { labels: { route, method, status: String(status) }, count: 0 };
      this.#requests.push(r);
      series.byStatus.set(status, r);
    }
    r.count++;
    const d = series.duration;
    d.count++;
    d.sum += seconds;
    for (let i = 0; i < durationBucketsSeconds.length; i++) {
      if (seconds <= durationBucketsSeconds[i]!) {
        d.buckets[i]!++;
        break;
      }
    }
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
          values: this.#requests.map((s) => ({ labels: s.labels, value: s.count })),
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
          values: this.#durations.flatMap((s) => {
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

/**
 * A histogram kept in plain numbers, for hot paths (an audio tick, a media write): `observe` is a
 * bucket search and three additions, nothing labelled, nothing hashed. `histogramMetric` sums any
 * number of them into one Prometheus histogram at scrape time.
 */
export class PlainHistogram {
  readonly bounds: readonly number[];
  readonly buckets: number[];
  count = 0;
  sum = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.buckets = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.count++;
    this.sum += value;
    const i = this.bounds.findIndex((le) => value <= le);
    if (i >= 0) this.buckets[i]!++;
  }

  /** Adds another histogram's observations (same bounds) into this one. */
  add(other: PlainHistogram): void {
    this.count += other.count;
    this.sum += other.sum;
    for (let i = 0; i < this.buckets.length; i++) this.buckets[i]! += other.buckets[i] ?? 0;
  }
}

/** One Prometheus histogram, the sum of the histograms `read` returns when scraped (all with `bounds`). */
export function histogramMetric(
  registry: Registry,
  name: string,
  help: string,
  bounds: readonly number[],
  read: () => Iterable<PlainHistogram>,
): void {
  const metric = {
    name,
    help,
    type: 'histogram',
    get: () => {
      const total = new PlainHistogram(bounds);
      for (const h of read()) total.add(h);
      let cumulative = 0;
      const values = bounds.map((le, i) => {
        cumulative += total.buckets[i]!;
        return { labels: { le }, value: cumulative, metricName: `${name}_bucket` };
      });
      return Promise.resolve({
        name,
        help,
        type: 'histogram',
        values: [
          ...values,
          { labels: { le: '+Inf' }, value: total.count, metricName: `${name}_bucket` },
          { labels: {}, value: total.sum, metricName: `${name}_sum` },
          { labels: {}, value: total.count, metricName: `${name}_count` },
        ],
        aggregator: 'sum',
      });
    },
  };
  // prom-client scrapes any object with this shape; its Metric type names only its own classes.
  registry.registerMetric(metric as unknown as Metric);
}

/** A counter read at scrape time from a plain number that only grows. */
export function scrapeCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
