import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { parseBucketUrl } from '../lib/bucket-url.ts';

/** Conditions and tags of one write. */
export interface PutOptions {
  /**
   * A compare-and-set: written only if the object's ETag is still this one, or (`null`) only if there
   * is no such object; otherwise the put throws `PreconditionFailed` and changes nothing.
   */
  readonly ifMatch?: string | null;
  /** The lease fencing number of the writer, kept with the object (`x-amz-meta-fence`). */
  readonly fence?: number;
}

/** What a HEAD tells about an object. */
export interface ObjectHead {
  readonly size: number;
  /** Without quotes. */
  readonly etag: string;
  /** The fencing number it was written with, if any. */
  readonly fence?: number;
}

/** A conditional put found the object changed (HTTP 412): nothing was written. */
export class PreconditionFailed extends Error {
  constructor(key: string) {
    super(`${key}: changed since it was last read (precondition failed)`);
    this.name = 'PreconditionFailed';
  }
}

/** The object store recordings live in, as the origin sees it: keys are `<spaceId>/<file>`. */
export interface ObjectStore {
  /** Writes the object; returns its new ETag (without quotes). */
  put(key: string, body: Uint8Array, contentType: string, options?: PutOptions): Promise<string>;
  /** The object's bytes; undefined when there is no such object. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** The object's length, ETag and fence (a HEAD, nothing read); undefined when there is no such object. */
  head(key: string): Promise<ObjectHead | undefined>;
  /** Deletes one object (nothing happens when there is none). */
  delete(key: string): Promise<void>;
  /** Every key under `prefix`. */
  list(prefix: string): Promise<string[]>;
}

export interface S3Settings {
  /** The S3 endpoint and the bucket as its path: `http://127.0.0.1:7480/amphi-media`. */
  readonly url: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Per request, connecting included: a gateway that hangs is a failure, retried by the caller. */
  readonly requestTimeoutMs?: number;
}

/**
 * A bucket of any S3-compatible server (AWS, Ceph radosgw, MinIO) through `@aws-sdk/client-s3`, the
 * maintained client every S3 server is tested against. Path-style addressing (the bucket in the path)
 * works with every server, virtual hosts need DNS. The SDK's own retries are off: callers retry with
 * their own backoff, so that every failure is counted and shown.
 */
export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly #client: S3Client;

  constructor(settings: S3Settings) {
    const { endpoint, bucket } = parseBucketUrl(settings.url);
    this.bucket = bucket;
    const timeout = settings.requestTimeoutMs ?? 5000;
    this.#client = new S3Client({
      endpoint,
      region: settings.region,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
      requestHandler: { requestTimeout: timeout, connectionTimeout: timeout },
    });
  }

  /** Creates the bucket unless it exists. */
  async ensureBucket(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if (status(error) !== 404) throw error;
      await this.#client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    }
  }

  async put(key: string, body: Uint8Array, contentType: string, options: PutOptions = {}): Promise<string> {
    const { ifMatch, fence } = options;
    try {
      const res = await this.#client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          // Unquoted: radosgw compares the header with its ETag verbatim; AWS and MinIO accept both forms.
          ...(ifMatch === null ? { IfNoneMatch: '*' } : ifMatch === undefined ? {} : { IfMatch: ifMatch }),
          ...(fence === undefined ? {} : { Metadata: { fence: String(fence) } }),
        }),
      );
      return unquote(res.ETag ?? '');
    } catch (error) {
      if (status(error) === 412) throw new PreconditionFailed(key);
      throw error;
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const res = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return res.Body === undefined ? new Uint8Array() : await res.Body.transformToByteArray();
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw error;
    }
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    try {
      const res = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      const fence = Number(res.Metadata?.fence);
      return {
        size: res.ContentLength ?? 0,
        etag: unquote(res.ETag ?? ''),
        ...(Number.isSafeInteger(fence) && res.Metadata?.fence !== undefined ? { fence } : {}),
      };
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.#client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of res.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
      token = res.IsTruncated === true ? res.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys;
  }

  close(): void {
    this.#client.destroy();
  }
}

function status(error: unknown): number | undefined {
  if (error instanceof S3ServiceException) return error.$metadata.httpStatusCode;
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function unquote(etag: string): string {
  return etag.replaceAll('"', '');
}
