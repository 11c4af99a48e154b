import { lineUp, lineUpManifest, type Job } from './upload-line.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { PreconditionFailed, type ObjectStore } from './bucket.ts';
import type { MediaStorage } from './storage.ts';

export interface BucketStorageOptions {
  /** The write-ahead buffer: every write lands here (durably) first. */
  readonly local: MediaStorage & { files(spaceId: string): string[] };
  readonly bucket: ObjectStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** Uploaded segments of each Space kept on local disk too (the newest); older ones are read from the bucket. */
  readonly localSegments: number;
  /** Backoff between attempts at one upload: doubles from `retryBaseMs` up to `retryMaxMs`. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Spaces uploading at once (each Space's objects go one at a time, in order). */
  readonly concurrency: number;
}

/** What is waiting to reach the bucket, and whether it is getting there. */
export type UploadHealth =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string; readonly since: number; readonly spaceId: string; readonly file: string };

const SEGMENT = /^s(\d+)\.m4s$/;
const MANIFEST = 'recording.json';
/** Local only (a dot-file, never uploaded): the fence this node last held the Space's lease with. */
const FENCE_FILE = '.fence';
const CONTENT_TYPES: Record<string, string> = { json: 'application/json', m3u8: 'application/vnd.apple.mpegurl' };

/**
 * Recordings in an S3-compatible bucket, with local disk as a write-ahead buffer (cluster mode).
 *
 * Every write goes to local disk first, durably, exactly as in embedded mode, so the origin's
 * synchronous paths (the track writes a segment, then lists it) keep their order and their failure
 * handling. Each write then queues an upload. A Space's uploads run one at a time in the order they
 * were written, so a segment always reaches the bucket before the manifest that lists it: the manifest
 * is queued after the segment, and a newer write of the same manifest replaces the queued one and goes
 * to the back of the line. A failed upload is retried with backoff, forever, and holds its Space's line
 * (nothing later overtakes it); while any upload fails, `health` says so (and since when).
 *
 * Fencing (cluster mode): a node holding a Space's lease says so with `fence(spaceId, n)`. Its manifest
 * writes are then compare-and-set (`If-Match` the ETag it last wrote or read) and carry the fence; a
 * write that finds the manifest changed reads it again, and gives the Space up if a higher fence wrote
 * it (a newer owner): a deposed node's late upload can never replace its successor's manifest. What a
 * restart finds on disk goes up only where the bucket has nothing under that name.
 *
 * Once a segment is in the bucket, the local copy of the segment `localSegments` older goes: the local
 * disk holds the newest few minutes and the small files (manifest, playlist, init). Reads that may miss
 * locally (`load`, `stat`) fall through to the bucket: replays, DVR and downloads are served from it.
 */
export class BucketMediaStorage implements MediaStorage {
  readonly #o: BucketStorageOptions;
  readonly #queues = new Map<string, Job[]>();
  /** Spaces whose line is being worked through (their first job is in flight). */
  readonly #draining = new Set<string>();
  /** Spaces with jobs waiting for a free upload slot. */
  readonly #ready: string[] = [];
  #health: UploadHealth = { ok: true };
  #idle: (() => void)[] = [];
  #closed = false;
  /** Nothing is uploaded before `recover` ran: what the last process left comes first. */
  #recovered = false;
  /** The lease fence each Space's manifest is written with (cluster mode). */
  readonly #fences = new Map<string, number>();
  /** The ETag of each fenced Space's manifest as this node last wrote or read it (null: none in the bucket). */
  readonly #tags = new Map<string, string | null>();
  /** Spaces another node produces now (`forget`, or a newer fence found): nothing of them is uploaded. */
  readonly #deposed = new Set<string>();
  /**
   * Uploads (and deletes) that reached the bucket, attempts that failed, objects read from the bucket,
   * and writes refused because a newer owner (a higher fence) had written the Space's manifest.
   */
  readonly counts = { uploaded: 0, failed: 0, deleted: 0, fromBucket: 0, fenced: 0 };

  constructor(options: BucketStorageOptions) {
    this.#o = options;
  }

  write(spaceId: string, name: string, data: Uint8Array | string): void {
    this.#o.local.write(spaceId, name, data);
    this.#enqueue(spaceId, name, 'put', name === MANIFEST ? (typeof data === 'string' ? Buffer.from(data) : data) : undefined);
  }

  create(spaceId: string, name: string, data: Uint8Array): void {
    this.#o.local.create(spaceId, name, data);
    this.#enqueue(spaceId, name, 'put');
  }

  read(spaceId: string, name: string): Uint8Array | undefined {
    return this.#o.local.read(spaceId, name);
  }

  size(spaceId: string, name: string): number | undefined {
    return this.#o.local.size(spaceId, name);
  }

  async load(spaceId: string, name: string): Promise<Uint8Array | undefined> {
    const local = this.#o.local.read(spaceId, name);
    if (local !== undefined) return local;
    const data = await this.#o.bucket.get(key(spaceId, name));
    if (data !== undefined) this.counts.fromBucket++;
    return data;
  }

  async stat(spaceId: string, name: string): Promise<number | undefined> {
    return this.#o.local.size(spaceId, name) ?? (await this.#o.bucket.head(key(spaceId, name)))?.size;
  }

  /**
   * This node holds the Space's lease with `fence` (from now on its manifest writes are fenced). Kept
   * on local disk too, so that what a restart uploads is fenced the same way.
   */
  fence(spaceId: string, fence: number): void {
    this.#fences.set(spaceId, fence);
    this.#tags.delete(spaceId);
    this.#deposed.delete(spaceId);
    this.#o.local.write(spaceId, FENCE_FILE, String(fence));
  }

  setAside(spaceId: string, name: string, suffix: string): boolean {
    // Only ever a segment that was never listed: it was never uploaded either (the line is in order).
    return this.#o.local.setAside(spaceId, name, suffix);
  }

  remove(spaceId: string, name?: string): void {
    this.#o.local.remove(spaceId, name);
    if (name === undefined) this.#enqueue(spaceId, '', 'purge');
    else this.#enqueue(spaceId, name, 'delete');
  }

  spaces(): string[] {
    return this.#o.local.spaces();
  }

  /**
   * Brings a Space's manifest and init segment from the bucket to local disk (this node takes over a
   * Space another node recorded), unless local disk has a manifest at least as new: written here under
   * the bucket's fence or a later one. Returns whether there is a manifest to resume from.
   */
  async hydrate(spaceId: string): Promise<boolean> {
    const local = this.#o.local.read(spaceId, MANIFEST);
    const head = await this.#o.bucket.head(key(spaceId, MANIFEST));
    if (local !== undefined && (head === undefined || (head.fence ?? 0) <= this.#localFence(spaceId))) return true;
    const manifest = await this.#o.bucket.get(key(spaceId, MANIFEST));
    if (manifest === undefined) return false;
    const init = await this.#o.bucket.get(key(spaceId, 'init.mp4'));
    if (init !== undefined) this.#o.local.write(spaceId, 'init.mp4', init);
    this.#o.local.write(spaceId, MANIFEST, manifest);
    return true;
  }

  /**
   * After a restart (or a crash): queues every local object the bucket lacks, segments in order, then
   * the small files, so that what was written before the stop reaches the bucket after all. Returns
   * how many objects were queued.
   */
  async recover(): Promise<number> {
    let queued = 0;
    for (const spaceId of this.#o.local.spaces()) {
      const fence = this.#localFence(spaceId);
      if (fence > 0 && !this.#fences.has(spaceId)) this.#fences.set(spaceId, fence);
      const inBucket = new Set((await this.#o.bucket.list(`${spaceId}/`)).map((k) => k.slice(spaceId.length + 1)));
      // Segments in order, then the manifest (which finds out whether another node owns the Space
      // now), then the rest.
      const order = (name: string) => (name === MANIFEST ? Number.MAX_SAFE_INTEGER : Number(SEGMENT.exec(name)?.[1] ?? Infinity));
      // Written since this start: already in the line (after what is missing, where they belong).
      const since = this.#queues.get(spaceId) ?? [];
      const waiting = new Set(since.map((j) => j.name));
      // Small files (manifest, playlist, init) are rewritten in place: always sent again.
      const missing = this.#o.local
        .files(spaceId)
        .filter((name) => !waiting.has(name) && (!inBucket.has(name) || !SEGMENT.test(name)))
        .sort((a, b) => order(a) - order(b) || a.localeCompare(b));
      if (missing.length > 0)
        this.#queues.set(spaceId, [
          ...missing.map((name) => ({
            name,
            op: 'put' as const,
            queuedAt: this.#o.clock.now(),
            ...(SEGMENT.test(name) || name === 'init.mp4' ? { ifAbsent: true as const } : {}),
          })),
          ...since,
        ]);
      if (missing.length > 0 && since.length === 0) this.#ready.push(spaceId);
      queued += missing.length;
    }
    this.#recovered = true;
    if (!this.#health.ok && this.#health.file === '') this.#health = { ok: true };
    this.#schedule();
    if (queued > 0) this.#o.log.info({ objects: queued }, 'recordings: objects written before the restart are being uploaded');
    return queued;
  }

  /**
   * Drops what waits to be uploaded for a Space this node no longer produces: another node writes its
   * manifest now, and an older one from here must not overwrite it. Returns how many were dropped.
   */
  forget(spaceId: string): number {
    this.#deposed.add(spaceId);
    this.#tags.delete(spaceId);
    const queue = this.#queues.get(spaceId);
    if (queue === undefined) return 0;
    const dropped = queue.splice(this.#draining.has(spaceId) ? 1 : 0);
    if (queue.length === 0) this.#queues.delete(spaceId);
    const ready = this.#ready.indexOf(spaceId);
    if (ready !== -1 && queue.length === 0) this.#ready.splice(ready, 1);
    return dropped.length;
  }

  /** A failed attempt (an upload, or the bucket check at start): counted, and shown in `health` until one succeeds. */
  failed(spaceId: string, file: string, error: unknown): void {
    this.counts.failed++;
    const reason = error instanceof Error ? error.message || error.name : String(error);
    this.#health = { ok: false, reason, since: this.#health.ok ? this.#o.clock.now() : this.#health.since, spaceId, file };
  }

  get health(): UploadHealth {
    return this.#health;
  }

  /** Objects waiting to reach the bucket (in flight included). */
  get pending(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  /** How long the oldest waiting object has waited, in ms (0 when none waits). */
  get oldestPendingMs(): number {
    let oldest = Infinity;
    for (const q of this.#queues.values()) if (q[0] !== undefined) oldest = Math.min(oldest, q[0].queuedAt);
    return oldest === Infinity ? 0 : this.#o.clock.now() - oldest;
  }

  /** Resolves once nothing waits to be uploaded. */
  drained(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops starting uploads (those in flight finish); what waits stays on local disk. */
  close(): void {
    this.#closed = true;
  }

  #enqueue(spaceId: string, name: string, op: Job['op'], data?: Uint8Array): void {
    if (this.#deposed.has(spaceId)) return;
    let queue = this.#queues.get(spaceId);
    if (queue === undefined) {
      queue = [];
      this.#queues.set(spaceId, queue);
    }
    const job = { name, op, queuedAt: this.#o.clock.now(), ...(data === undefined ? {} : { data }) };
    (name === MANIFEST && op === 'put' ? lineUpManifest : lineUp)(queue, job, this.#draining.has(spaceId));
    if (!this.#draining.has(spaceId) && !this.#ready.includes(spaceId)) this.#ready.push(spaceId);
    this.#schedule();
  }

  #schedule(): void {
    while (this.#recovered && !this.#closed && this.#draining.size < this.#o.concurrency && this.#ready.length > 0) {
      const spaceId = this.#ready.shift()!;
      this.#draining.add(spaceId);
      void this.#drain(spaceId);
    }
  }

  /** Works through one Space's line, one object at a time, each until it succeeds. */
  async #drain(spaceId: string): Promise<void> {
    const queue = this.#queues.get(spaceId)!;
    let failures = 0;
    while (queue.length > 0 && !this.#closed) {
      const job = queue[0]!;
      try {
        await this.#run(spaceId, job);
        queue.shift();
        failures = 0;
        if (!this.#health.ok && this.#health.spaceId === spaceId && this.#health.file === job.name) {
          this.#o.log.info({ spaceId, file: job.name }, 'uploads to the bucket work again');
          this.#health = { ok: true };
        }
      } catch (error) {
        failures++;
        if (failures === 1) this.#o.log.error({ spaceId, file: job.name, err: error }, 'upload to the bucket failed (retrying)');
        this.failed(spaceId, job.name, error);
        const delay = Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** Math.min(failures - 1, 20));
        await new Promise<void>((resolve) => this.#o.clock.setTimeout(resolve, delay));
      }
    }
    this.#draining.delete(spaceId);
    if (queue.length === 0) this.#queues.delete(spaceId);
    else if (!this.#closed) this.#ready.push(spaceId);
    this.#schedule();
    if (this.pending === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  async #run(spaceId: string, job: Job): Promise<void> {
    const { bucket, local } = this.#o;
    if (job.op === 'purge') {
      for (let keys = await bucket.list(`${spaceId}/`); keys.length > 0; keys = await bucket.list(`${spaceId}/`)) {
        for (const k of keys) await bucket.delete(k);
        this.counts.deleted += keys.length;
      }
      return;
    }
    if (job.op === 'delete') {
      await bucket.delete(key(spaceId, job.name));
      this.counts.deleted++;
      return;
    }
    const data = job.data ?? local.read(spaceId, job.name);
    if (data === undefined) return; // removed since (a recording window): a delete follows it
    const fence = this.#fences.get(spaceId);
    if (job.name === MANIFEST && fence !== undefined) {
      await this.#putManifest(spaceId, data, fence);
      return;
    }
    try {
      await bucket.put(key(spaceId, job.name), data, contentType(job.name), job.ifAbsent ? { ifMatch: null } : {});
    } catch (error) {
      if (!(error instanceof PreconditionFailed)) throw error;
      this.#o.log.warn(
        { spaceId, file: job.name },
        'recordings: the bucket already has this object from another node; the local copy is not uploaded',
      );
      return;
    }
    this.counts.uploaded++;
    const segment = SEGMENT.exec(job.name);
    if (segment !== null) {
      // Every earlier object of this Space is in the bucket (the line is in order): the old copy can go.
      local.remove(spaceId, `s${Number(segment[1]) - this.#o.localSegments}.m4s`);
    }
  }

  /**
   * A fenced manifest write: compare-and-set against the ETag this node last wrote or read. When the
   * manifest changed meanwhile, it is read again: written by a higher fence (a newer owner), the Space
   * is given up here (nothing of it is uploaded any more); otherwise (an older owner's late write, or
   * this node's own write whose answer was lost) the write is made again over it.
   */
  async #putManifest(spaceId: string, data: Uint8Array, fence: number): Promise<void> {
    const name = key(spaceId, MANIFEST);
    for (let attempt = 1; ; attempt++) {
      let tag = this.#tags.get(spaceId);
      if (tag === undefined) {
        const head = await this.#o.bucket.head(name);
        if (head?.fence !== undefined && head.fence > fence) {
          this.counts.fenced++;
          const dropped = this.forget(spaceId);
          this.#o.log.warn(
            { spaceId, fence, newer: head.fence, droppedUploads: dropped },
            'recordings: a newer owner writes this Space now; this node uploads nothing more of it',
          );
          return;
        }
        tag = head?.etag ?? null;
      }
      try {
        this.#tags.set(spaceId, await this.#o.bucket.put(name, data, contentType(MANIFEST), { ifMatch: tag, fence }));
        this.counts.uploaded++;
        return;
      } catch (error) {
        this.#tags.delete(spaceId);
        if (!(error instanceof PreconditionFailed) || attempt === 3) throw error;
      }
    }
  }

  /** The fence this node last held the Space's lease with (0: never, or not in cluster mode). */
  #localFence(spaceId: string): number {
    const fence = Number(new TextDecoder().decode(this.#o.local.read(spaceId, FENCE_FILE) ?? new Uint8Array()));
    return Number.isSafeInteger(fence) ? fence : 0;
  }
}

function contentType(name: string): string {
  return CONTENT_TYPES[name.split('.').pop()!] ?? 'audio/mp4';
}

function key(spaceId: string, name: string): string {
  return `${spaceId}/${name}`;
}
