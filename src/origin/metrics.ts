import { Counter, type Registry } from 'prom-client';
import { scrapeGauge } from '../lib/metrics.ts';
import type { OriginPlane } from './plane.ts';

/** The origin's recordings (`amphi_origin_*`), read at scrape time. */
export function originMetrics(registry: Registry, origin: OriginPlane): void {
  scrapeGauge(registry, 'amphi_origin_live_tracks', 'Recordings taking program frames now', () => origin.liveTracks);
  scrapeGauge(registry, 'amphi_origin_storage_healthy', '1 when the last media write succeeded, 0 while writes fail', () =>
    origin.health.ok ? 1 : 0,
  );
  new Counter({
    name: 'amphi_origin_storage_write_failures_total',
    help: 'Media writes (segments, manifests, playlists) that failed; each failed segment is a gap in the recording',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(origin.writeFailures);
    },
  });
}
