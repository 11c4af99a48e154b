import { request, type ClientRequest } from 'node:http';
import { after, before } from 'node:test';
import { startCluster, type Cluster, type ClusterOptions } from '../../bench/cluster/launch.ts';
import { radosgwInstalled } from '../../bench/cluster/radosgw.ts';
import { Teardown } from '../../bench/lib/teardown.ts';
import { S3ObjectStore } from '../../src/origin/bucket.ts';
import type { RecordingManifest } from '../../src/origin/track.ts';
import { eventually } from './eventually.ts';
import { jsonApi } from './json-api.ts';
import { hasCommands, optionalSuite, skipUnless } from './skip.ts';

/**
 * Cluster suites run real processes (`npm run cluster`'s launcher): Redis, PostgreSQL, nginx and the
 * roles. They need AMPHI_TEST_PG=1 (a PostgreSQL whose role may CREATE DATABASE) and redis-server and
 * nginx; CI has all three.
 */
export const clusterSkip: false | string =
  process.env.AMPHI_TEST_PG === '1'
    ? skipUnless({
        available: hasCommands('redis-server', 'nginx'),
        env: 'AMPHI_TEST_REDIS',
        suite: 'cluster tests',
        install: 'redis-server and nginx',
      })
    : 'cluster tests skipped: they need PostgreSQL (AMPHI_TEST_PG=1; CI sets it)';

/** A suite with recordings in a bucket also needs Ceph's radosgw (AMPHI_TEST_S3=1 requires it; CI installs it). */
export function bucketSkip(): false | string {
  return skipUnless({
    available: radosgwInstalled(),
    env: 'AMPHI_TEST_S3',
    suite: 'cluster tests with a bucket',
    install: 'radosgw ceph-mon ceph-osd',
  });
}

/** Config every cluster test starts from: fast password hashing, no per-address limits (one test client). */
export const CLUSTER_TEST_CONFIG = {
  auth: { passwordHashCostLog2: 10 },
  rateLimits: { authPerAddress: { capacity: 100_000, refillPerSecond: 10_000 } },
  admission: {
    joinBurst: 100_000,
    limits: {
      joinsPerAddress: { capacity: 1_000_000, refillPerSecond: 100_000 },
      perAddress: { capacity: 1_000_000, refillPerSecond: 1_000_000 },
    },
    overload: { eventLoopDelayLevelsMs: [10_000], cpuShareLevels: [1], queueDepthLevels: [1_000_000] },
    pow: { thresholdJoinsPerSecond: 1_000_000 },
  },
};

/** A suite over one cluster, started before its tests and stopped after (however they end). */
export function clusterSuite(name: string, options: Omit<ClusterOptions, 'progress'>, body: (get: () => Cluster) => void): void {
  const skip = clusterSkip || (options.bucket === true ? bucketSkip() : false);
  optionalSuite(name, { skip, timeout: 600_000 }, () => {
    const t = new Teardown();
    let cluster: Cluster | undefined;
    before(async () => {
      cluster = await startCluster(t, { demo: false, ...options });
    });
    after(() => t.run());
    body(() => {
      if (cluster === undefined) throw new Error('the cluster did not start');
      return cluster;
    });
  });
}

/** The JSON API of one node (or nginx). */
export const apiAt = (url: string) => jsonApi(() => url);

/** A signed-up account on the cluster (through `url`). */
export async function signUp(url: string, handle: string): Promise<{ id: string; token: string }> {
  const r = await apiAt(url)('POST', '/api/accounts', undefined, { handle, password: 'a long test password' });
  if (r.status !== 201 && r.status !== 200) throw new Error(`sign-up refused: ${r.status} ${JSON.stringify(r.json)}`);
  return { id: r.json.account.id as string, token: r.json.token as string };
}

/** Asks the cluster (through `url`) for the host's stage grant, as a publisher that keeps publishing does. */
export function stageGrant(url: string, spaceId: string, token: string): () => Promise<{ whipUrl: string; token: string }> {
  return async () => {
    const r = await apiAt(url)('POST', `/api/spaces/${spaceId}/stage`, token);
    if (r.status !== 200) throw new Error(`stage grant ${r.status}`);
    return { whipUrl: r.json.whipUrl as string, token: r.json.token as string };
  };
}

/** A held live.mp4 stream being read: bytes so far, when the last arrived, whether it ended. */
export interface HeldStream {
  readonly status: Promise<number>;
  bytes: number;
  lastDataAt: number;
  ended: boolean;
  close(): void;
}

export function holdStream(url: string): HeldStream {
  let req: ClientRequest;
  const held: HeldStream = {
    bytes: 0,
    lastDataAt: 0,
    ended: false,
    status: new Promise((resolve) => {
      req = request(url, (res) => {
        resolve(res.statusCode ?? 0);
        res.on('data', (chunk: Buffer) => {
          held.bytes += chunk.length;
          held.lastDataAt = performance.now();
        });
        res.on('end', () => (held.ended = true));
        res.on('error', () => (held.ended = true));
        res.on('close', () => (held.ended = true));
      });
      req.on('error', () => {
        held.ended = true;
        resolve(0);
      });
      req.end();
    }),
    close: () => req.destroy(),
  };
  return held;
}

/** The cluster's recordings bucket as an S3 client (close it when done). */
export function bucketClient(bucket: NonNullable<Cluster['bucket']>): S3ObjectStore {
  return new S3ObjectStore({
    url: bucket.url,
    region: 'us-east-1',
    accessKeyId: bucket.rgw.accessKeyId,
    secretAccessKey: bucket.rgw.secretAccessKey,
  });
}

/** A Space's recording manifest as the bucket has it now (undefined: none yet). */
export async function bucketManifest(objects: S3ObjectStore, spaceId: string): Promise<RecordingManifest | undefined> {
  const raw = await objects.get(`${spaceId}/recording.json`);
  return raw === undefined ? undefined : (JSON.parse(new TextDecoder().decode(raw)) as RecordingManifest);
}

/** Waits (up to 20 s) until the bucket has the Space's final manifest, and returns it. */
export async function finalManifest(objects: S3ObjectStore, spaceId: string): Promise<RecordingManifest> {
  await eventually('the final manifest in the bucket', async () => (await bucketManifest(objects, spaceId))?.ended === true, {
    timeoutMs: 20_000,
  });
  return (await bucketManifest(objects, spaceId))!;
}
