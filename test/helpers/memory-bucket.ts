import { createHash } from 'node:crypto';
import { PreconditionFailed, type ObjectHead, type ObjectStore, type PutOptions } from '../../src/origin/bucket.ts';

/** A bucket in memory that records the order of what reaches it and can be switched off. */
export class MemoryBucket implements ObjectStore {
  readonly objects = new Map<string, Uint8Array>();
  readonly types = new Map<string, string>();
  /** The fence each object was last written with. */
  readonly fences = new Map<string, number>();
  /** Every put and delete that succeeded, in order. */
  readonly log: string[] = [];
  down = false;
  /** Puts answered only when released (`hold` true): to see what is in flight. */
  hold = false;
  readonly #held: (() => void)[] = [];

  /** A put with its conditions checked as S3 does (412 when the object changed). */
  async put(key: string, body: Uint8Array, contentType: string, options: PutOptions = {}): Promise<string> {
    if (this.hold) await new Promise<void>((resolve) => this.#held.push(resolve));
    this.#check();
    const current = this.objects.get(key);
    if (options.ifMatch === null && current !== undefined) throw new PreconditionFailed(key);
    if (typeof options.ifMatch === 'string' && (current === undefined || etag(current) !== options.ifMatch)) {
      throw new PreconditionFailed(key);
    }
    this.objects.set(key, body.slice());
    this.types.set(key, contentType);
    if (options.fence === undefined) this.fences.delete(key);
    else this.fences.set(key, options.fence);
    this.log.push(`put ${key}${options.fence === undefined ? '' : ` fence ${options.fence}`}`);
    return etag(body);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.#check();
    return Promise.resolve(this.objects.get(key));
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    this.#check();
    const data = this.objects.get(key);
    if (data === undefined) return Promise.resolve(undefined);
    const fence = this.fences.get(key);
    return Promise.resolve({ size: data.length, etag: etag(data), ...(fence === undefined ? {} : { fence }) });
  }

  async delete(key: string): Promise<void> {
    this.#check();
    this.objects.delete(key);
    this.fences.delete(key);
    this.log.push(`delete ${key}`);
    return Promise.resolve();
  }

  async list(prefix: string): Promise<string[]> {
    this.#check();
    return Promise.resolve([...this.objects.keys()].filter((k) => k.startsWith(prefix)));
  }

  /** Answers the puts waiting now; later ones are held still. */
  step(): void {
    for (const resolve of this.#held.splice(0)) resolve();
  }

  release(): void {
    this.hold = false;
    for (const resolve of this.#held.splice(0)) resolve();
  }

  text(key: string): string | undefined {
    const data = this.objects.get(key);
    return data === undefined ? undefined : new TextDecoder().decode(data);
  }

  #check(): void {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:7480');
  }
}

/** S3's ETag of a single-part upload: the MD5 of the bytes. */
function etag(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}
