import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketEnv } from '../../bench/cluster/launch.ts';
import { PreconditionFailed } from '../../src/origin/bucket.ts';
import {
  apiAt,
  bucketClient,
  bucketManifest,
  CLUSTER_TEST_CONFIG,
  clusterSuite,
  finalManifest,
  holdStream,
  signUp,
} from '../helpers/cluster.ts';
import { eventually } from '../helpers/eventually.ts';

/** The media node of a cluster with AMPHI_BUCKET_URL: a live Space's recording goes to radosgw as it is made. */
clusterSuite(
  'cluster: recordings in the bucket',
  { controls: 1, edges: 1, bucket: true, config: CLUSTER_TEST_CONFIG },
  (cluster) => {
    test('a live Space is uploaded segment by segment; its final manifest and playlist follow the end; health and metrics say so', async () => {
      const { url, bucket, media, edges } = cluster();
      assert.ok(bucket !== undefined);
      const objects = bucketClient(bucket);
      try {
        const api = apiAt(url);
        const host = await signUp(url, 'bucket_host');
        const spaceId = (await api('POST', '/api/spaces', host.token, { title: 'Into the bucket' })).json.space.id as string;
        assert.equal((await api('POST', `/api/spaces/${spaceId}/start`, host.token)).status, 200);
        const grant = (await api('POST', `/api/spaces/${spaceId}/join`, undefined, {})).json as { streamUrl: string };
        assert.ok(grant.streamUrl.startsWith(edges[0]!.url) || grant.streamUrl.startsWith(media.url), grant.streamUrl);
        const held = holdStream(grant.streamUrl);
        try {
          await eventually('three segments in the bucket', async () => (await objects.list(`${spaceId}/s`)).length >= 3, {
            timeoutMs: 20_000,
          });
          const live = (await bucketManifest(objects, spaceId))!;
          assert.equal(live.ended, false);
          const keys = new Set(await objects.list(`${spaceId}/`));
          for (const s of live.segments)
            assert.ok(keys.has(`${spaceId}/s${s.msn}.m4s`), `listed segment ${s.msn} is in the bucket`);
          assert.ok(held.bytes > 0, 'the listener hears the program meanwhile');
        } finally {
          held.close();
        }

        const health = (await (await fetch(`${media.url}/healthz`)).json()) as { status: string; failing?: unknown };
        assert.deepEqual([health.status, health.failing], ['ok', undefined]);
        const metrics = await (await fetch(`${media.url}/metrics`)).text();
        const uploaded = Number(/^amphi_bucket_uploads_total (\d+)/m.exec(metrics)?.[1]);
        assert.ok(uploaded >= 4, `amphi_bucket_uploads_total ${uploaded}`);
        assert.match(metrics, /^amphi_bucket_healthy 1$/m);

        // radosgw dies for a while: /healthz says so while it lasts, and nothing recorded meanwhile is lost.
        bucket.rgw.gateway().kill('SIGKILL');
        const outageAt = performance.now();
        await eventually(
          'the outage in /healthz',
          async () => {
            const h = (await (await fetch(`${media.url}/healthz`)).json()) as {
              status: string;
              failing?: Record<string, { reason: string }>;
            };
            return h.status === 'degraded' && /uploads to the bucket failing/.test(h.failing?.bucket?.reason ?? '');
          },
          { timeoutMs: 15_000 },
        );
        await eventually(
          'a few more segments waiting on local disk',
          async () =>
            Number(/^amphi_bucket_pending_objects (\d+)/m.exec(await (await fetch(`${media.url}/metrics`)).text())?.[1]) >= 3,
          { timeoutMs: 15_000 },
        );
        await bucket.rgw.restart();
        await eventually(
          'healthy again',
          async () => ((await (await fetch(`${media.url}/healthz`)).json()) as { status: string }).status === 'ok',
          { timeoutMs: 20_000 },
        );
        console.log(`bucket outage: ${((performance.now() - outageAt) / 1000).toFixed(1)} s until /healthz was ok again`);

        assert.equal((await api('POST', `/api/spaces/${spaceId}/end`, host.token)).status, 200);
        const final = await finalManifest(objects, spaceId);
        const playlist = new TextDecoder().decode(await objects.get(`${spaceId}/media.m3u8`));
        assert.match(playlist, /#EXT-X-ENDLIST/);

        const keys = new Set(await objects.list(`${spaceId}/`));
        assert.deepEqual(
          final.segments.filter((s) => s.gap !== true && !keys.has(`${spaceId}/s${s.msn}.m4s`)).map((s) => s.msn),
          [],
          'every segment the final manifest lists is in the bucket',
        );
        assert.equal(final.segments.filter((s) => s.gap === true).length, 0, 'no gap: the outage cost nothing');

        // The media node dies after the end: an edge that knows the bucket still serves the replay from it.
        const replay = (await apiAt(media.url)('POST', `/api/spaces/${spaceId}/join`, undefined, {})).json as {
          playlistUrl: string;
        };
        const path = new URL(replay.playlistUrl).pathname.replace(/index\.m3u8$/, '');
        const bucketEdge = await cluster().addEdge({
          env: bucketEnv(bucket),
        });
        media.kill('SIGKILL');
        await eventually(
          'the media node gone',
          async () =>
            !(await fetch(`${media.url}/healthz`).then(
              () => true,
              () => false,
            )),
          {
            timeoutMs: 10_000,
          },
        );
        const fromEdge = await fetch(`${bucketEdge.url}${path}media.m3u8`);
        assert.equal(fromEdge.status, 200);
        assert.equal(await fromEdge.text(), playlist, 'the final playlist, from the bucket');
        const first = final.segments.find((s) => s.gap !== true)!;
        const segment = await fetch(`${bucketEdge.url}${path}s${first.msn}.m4s`);
        assert.equal(segment.status, 200);
        assert.deepEqual(new Uint8Array(await segment.arrayBuffer()), await objects.get(`${spaceId}/s${first.msn}.m4s`));
        const edgeHealth = (await (await fetch(`${bucketEdge.url}/healthz`)).json()) as { servedFromBucket: number };
        assert.ok(edgeHealth.servedFromBucket >= 2, `served from the bucket: ${edgeHealth.servedFromBucket}`);
      } finally {
        objects.close();
      }
    });

    test('radosgw keeps the compare-and-set that fencing stands on: stale If-Match and If-None-Match on an existing key are refused', async () => {
      const objects = bucketClient(cluster().bucket!);
      try {
        const key = 'fencing-check/recording.json';
        const body = (text: string) => new TextEncoder().encode(text);
        const first = await objects.put(key, body('{"n":1}'), 'application/json', { ifMatch: null, fence: 1 });
        assert.match(first, /^[0-9a-f]{32}$/, 'an ETag without quotes');
        assert.deepEqual(await objects.head(key), { size: 7, etag: first, fence: 1 });
        await assert.rejects(objects.put(key, body('{"n":0}'), 'application/json', { ifMatch: null }), PreconditionFailed);
        const second = await objects.put(key, body('{"n":2}'), 'application/json', { ifMatch: first, fence: 2 });
        await assert.rejects(
          objects.put(key, body('{"late":true}'), 'application/json', { ifMatch: first, fence: 1 }),
          PreconditionFailed,
          'a write based on what the key held before is refused',
        );
        assert.deepEqual(await objects.head(key), { size: 7, etag: second, fence: 2 });
        assert.equal(new TextDecoder().decode(await objects.get(key)), '{"n":2}');
      } finally {
        objects.close();
      }
    });
  },
);
