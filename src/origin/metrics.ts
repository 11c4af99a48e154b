import { Counter, type Registry } from 'prom-client';
import { histogramMetric, scrapeCounter, scrapeGauge } from '../lib/metrics.ts';
import type { BucketMediaStorage } from './bucket-storage.ts';
import type { OriginPlane } from './plane.ts';
import { WRITE_BOUNDS_SECONDS } from './track-stats.ts';

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
  const { stats } = origin;
  scrapeCounter(
    registry,
    'amphi_origin_parts_total',
    'LL-HLS parts cut from the program (served from memory)',
    () => stats.parts,
  );
  scrapeCounter(
    registry,
    'amphi_origin_segments_written_total',
    'Segments written to media storage (a failed one is a gap)',
    () => stats.segments,
  );
  histogramMetric(
    registry,
    'amphi_origin_storage_write_seconds',
    'Time of each successful media write (segments, manifests, playlists)',
    WRITE_BOUNDS_SECONDS,
    () => [stats.writeSeconds],
  );
}

/** Uploads of recordings to the bucket (`amphi_bucket_*`, cluster mode), read at scrape time. */
export function bucketMetrics(registry: Registry, bucket: BucketMediaStorage): void {
  scrapeGauge(
    registry,
    'amphi_bucket_pending_objects',
    'Recording objects on local disk waiting to reach the bucket',
    () => bucket.pending,
  );
  scrapeGauge(
    registry,
    'amphi_bucket_oldest_pending_seconds',
    'How long the oldest waiting object has waited',
    () => bucket.oldestPendingMs / 1000,
  );
  scrapeGauge(registry, 'amphi_bucket_healthy', '1 while uploads succeed, 0 while one is failing (and retried)', () =>
    bucket.health.ok ? 1 : 0,
  );
  for (const [name, help, read] of [
    ['amphi_bucket_uploads_total', 'Recording objects uploaded to the bucket', () => bucket.counts.uploaded],
    ['amphi_bucket_upload_failures_total', 'Upload attempts that failed (each is retried)', () => bucket.counts.failed],
    ['amphi_bucket_reads_total', 'Objects served from the bucket (no longer on local disk)', () => bucket.counts.fromBucket],
  ] as const)
    scrapeCounter(registry, name, help, read);
}
