import { join } from 'node:path';
import { TranscriptIndex } from '../control/transcripts.ts';
import type { Store } from '../storage/store.ts';
import type { Config } from '../config/schema.ts';
import { every, type Clock, type TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { OriginPlane, StorageHealth } from '../origin/plane.ts';
import { S3ObjectStore } from '../origin/bucket.ts';
import { BucketMediaStorage, type UploadHealth } from '../origin/bucket-storage.ts';
import { FileMediaStorage } from '../origin/storage.ts';
import type { HealthCheck } from './ops-routes.ts';

/**
 * Where recordings go: local disk (embedded mode), or with `bucket.url` an S3-compatible bucket with
 * local disk as the write-ahead buffer.
 */
/** The recordings' bucket named by `bucket.url`, or undefined when recordings stay on local disk. */
export function bucketFromConfig(settings: Readonly<Config['bucket']>): S3ObjectStore | undefined {
  if (settings.url === null) return undefined;
  return new S3ObjectStore({
    url: settings.url,
    region: settings.region,
    accessKeyId: settings.accessKeyId!,
    secretAccessKey: settings.secretAccessKey!,
    requestTimeoutMs: settings.requestTimeoutMs,
  });
}

export function mediaStorage(config: Readonly<Config>, clock: Clock, log: Logger) {
  const local = new FileMediaStorage(join(config.dataDir, 'media'));
  const settings = config.bucket;
  if (settings.url === null) return { media: local, bucket: undefined };
  const objects = bucketFromConfig(settings)!;
  const storage = new BucketMediaStorage({
    local,
    bucket: objects,
    clock,
    log,
    localSegments: settings.localSegments,
    retryBaseMs: 250,
    retryMaxMs: settings.retryMaxMs,
    concurrency: settings.concurrency,
  });
  let stopRetrying = () => {};
  const bucket = {
    storage,
    /**
     * Creates the bucket unless it exists and queues what the last process left unuploaded, then
     * uploads start. A bucket out of reach is reported and tried again (in the background) until it answers.
     */
    async open() {
      const attempt = async (): Promise<boolean> => {
        try {
          await objects.ensureBucket();
          await storage.recover();
          log.info({ bucket: objects.bucket }, 'recordings go to the bucket');
          return true;
        } catch (error) {
          log.error({ bucket: objects.bucket, err: error }, 'the bucket is out of reach: recordings wait on local disk');
          storage.failed('', '', error);
          return false;
        }
      };
      if (await attempt()) return;
      stopRetrying = every(
        clock,
        settings.retryMaxMs,
        async () => {
          if (await attempt()) stopRetrying();
        },
        () => {},
      );
    },
    /** Gives waiting uploads up to `graceMs`; what is left stays on local disk for the next start. */
    async close(graceMs: number) {
      stopRetrying();
      let timer: TimerHandle | undefined;
      await Promise.race([storage.drained(), new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, graceMs)))]);
      if (timer !== undefined) clock.clearTimeout(timer);
      if (storage.pending > 0) log.warn({ pending: storage.pending }, 'stopping with uploads waiting: they stay on local disk');
      storage.close();
      objects.close();
    },
  };
  return { media: storage, bucket };
}

export function bucketCheck(health: UploadHealth): HealthCheck {
  if (health.ok) return { ok: true };
  const { reason, since, spaceId, file } = health;
  return { ok: false, reason: `uploads to the bucket failing: ${reason}`, since: new Date(since).toISOString(), spaceId, file };
}

export function mediaCheck(health: StorageHealth): HealthCheck {
  if (health.ok) return { ok: true };
  const { reason, since, spaceId, file } = health;
  return { ok: false, reason: `media writes failing: ${reason}`, since: new Date(since).toISOString(), spaceId, file };
}

/** For the retention sweep: the search index forgets the Spaces whose recordings it deleted. */
export function forgetTranscripts(store: Store, log: Logger): (spaceIds: readonly string[]) => Promise<void> {
  const index = new TranscriptIndex(store, log.child({ plane: 'control', part: 'transcripts' }));
  return (spaceIds) => index.forget(spaceIds);
}

/**
 * At start and every hour after: deletes recordings past `retentionDays` (null keeps them), and the
 * files of replays their hosts deleted that are still here (the bus event that deletes them at once
 * can be missed: a crash after the commit, a node away). The Spaces whose recordings retention
 * deleted go to `forget` (their transcript lines leave the search index: `TranscriptIndex.forget`).
 */
export function retentionSweep(
  retentionDays: number | null,
  origin: OriginPlane,
  deletedReplays: () => Promise<readonly string[]>,
  clock: Clock,
  log: Logger,
  forget: (spaceIds: readonly string[]) => Promise<void> = () => Promise.resolve(),
) {
  let stop = () => {};
  return {
    start() {
      const sweep = async () => {
        const expired = retentionDays === null ? [] : origin.sweepRetention(retentionDays);
        if (expired.length > 0) await forget(expired);
        for (const spaceId of await deletedReplays()) {
          if (origin.recording(spaceId) === undefined) continue; // nothing left here
          origin.deleteRecording(spaceId);
          log.info({ spaceId }, 'files of a deleted replay removed by the sweep');
        }
      };
      const onError = (error: unknown) => log.warn({ err: error }, 'retention sweep failed');
      sweep().catch(onError);
      stop = every(clock, 3_600_000, sweep, onError);
    },
    stop: () => stop(),
  };
}
