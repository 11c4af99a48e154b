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

/** The object store recordings live in, as the origin sees it: keys are `<spaceId>/<file>`. */
export interface ObjectStore {
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** The object's bytes; undefined when there is no such object. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** The object's length in bytes (a HEAD, nothing read); undefined when there is no such object. */
  size(key: string): Promise<number | undefined>;
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

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.#client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
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

  async size(key: string): Promise<number | undefined> {
    try {
      return (await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }))).ContentLength;
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
