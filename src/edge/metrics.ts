import { Counter, type Registry } from 'prom-client';
import { scrapeGauge } from '../lib/metrics.ts';
import type { Edge } from './edge.ts';

/** The edge's audience and cache (`amphi_edge_*`), read at scrape time. */
export function edgeMetrics(registry: Registry, edge: Edge): void {
  scrapeGauge(registry, 'amphi_edge_listeners', 'Distinct listeners at this edge (held streams and recent LL-HLS requests)', () =>
    edge.allListeners(),
  );
  scrapeGauge(registry, 'amphi_edge_stream_listeners', 'Listeners holding a live.mp4 stream at this edge', () => edge.streaming);
  new Counter({
    name: 'amphi_edge_origin_fetches_total',
    help: 'Origin fetches since start (one per object per edge)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(edge.originFetches);
    },
  });
  new Counter({
    name: 'amphi_edge_streams_refused_total',
    help: 'live.mp4 streams refused with TOO_MANY_STREAMS, by the limit reached (edge.maxStreamsPerSubject, edge.maxStreamsPerAddress)',
    labelNames: ['limit'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const refused = edge.streamsRefused;
      this.inc({ limit: 'subject' }, refused.subject);
      this.inc({ limit: 'address' }, refused.address);
    },
  });
}
