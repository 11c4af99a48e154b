import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { keepPublishing } from '../../bench/lib/whip-tone.ts';
import { leaseOwner } from '../../src/cluster/lease.ts';
import { SAMPLE_RATE, toneShare } from '../../src/stage/audio.ts';
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
import { ffmpegDecode } from '../helpers/ffmpeg.ts';

/**
 * Two media nodes, one live Space with a publisher playing a tone: SIGKILL the node producing it. The
 * other takes the Space's lease, resumes the recording from the bucket's manifest, the publisher
 * reconnects to it by itself, a listener's held live.mp4 goes on, and the replay has one marked gap.
 */
clusterSuite(
  'cluster: a media node dies mid-Space',
  { controls: 1, edges: 1, media: 2, bucket: true, config: CLUSTER_TEST_CONFIG },
  (cluster) => {
    test('SIGKILL of the media node producing a live Space: lease, publisher and listener back within 10 s; the replay has one gap', async () => {
      const { url, medias, redisUrl, bucket } = cluster();
      assert.ok(bucket !== undefined);
      const redis = new Redis(redisUrl);
      redis.on('error', () => {}); // the cluster's Redis stops before this client at teardown
      const objects = bucketClient(bucket);
      try {
        const api = apiAt(url);
        const host = await signUp(url, 'failover_host');
        const spaceId = (await api('POST', '/api/spaces', host.token, { title: 'Failover' })).json.space.id as string;
        assert.equal((await api('POST', `/api/spaces/${spaceId}/start`, host.token)).status, 200);
        const grant = async () => {
          const r = await api('POST', `/api/spaces/${spaceId}/stage`, host.token);
          if (r.status !== 200) throw new Error(`stage grant ${r.status}`);
          return { whipUrl: r.json.whipUrl as string, token: r.json.token as string };
        };
        const speaker = await keepPublishing({ grant, frequencyHz: 440 });
        const joined = (await api('POST', `/api/spaces/${spaceId}/join`, undefined, {})).json as {
          streamUrl: string;
          playlistUrl: string;
        };
        const listener = holdStream(joined.streamUrl);
        // An HLS player too (ffmpeg), playing across the failover: 20 s of media time.
        let hls: ReturnType<typeof ffmpegDecode> | undefined;
        try {
          await eventually('the listener hears the show', () => listener.bytes > 20_000, { timeoutMs: 15_000 });
          hls = ffmpegDecode(joined.playlistUrl, 20);
          // Three more seconds of the show before the kill: the player has started by then.
          const started = listener.bytes;
          await eventually('the HLS player under way', () => listener.bytes > started + 18_000, { timeoutMs: 15_000 });
          const owner = (await leaseOwner(redis, spaceId))!;
          const fleet = JSON.parse((await redis.get(`amphi:fleet:node:${owner.nodeId}`))!) as { url: string };
          const dying = medias.find((m) => m.node.url === fleet.url)!;
          const surviving = medias.find((m) => m !== dying)!;
          assert.ok(dying !== undefined && surviving !== undefined, `the owner ${owner.nodeId} is one of the media nodes`);

          dying.node.kill('SIGKILL');
          const killedAt = performance.now();
          await eventually(
            'another node holds the lease',
            async () => {
              const now = await leaseOwner(redis, spaceId);
              return now !== undefined && now.nodeId !== owner.nodeId;
            },
            {
              timeoutMs: 15_000,
              intervalMs: 100,
            },
          );
          const leaseAt = performance.now();
          const next = (await leaseOwner(redis, spaceId))!;
          assert.ok(next.fence > owner.fence, 'the new owner has a larger fencing number');
          await eventually('the publisher back, on the surviving stage', () => speaker.reconnects.length > 0, {
            timeoutMs: 15_000,
            intervalMs: 100,
          });
          const publisherAt = performance.now();
          assert.ok(speaker.reconnects[0]!.whipUrl.startsWith(surviving.stageUrl), speaker.reconnects[0]!.whipUrl);
          const bytesAtLease = listener.bytes;
          await eventually(
            'the listener hears again',
            () => listener.bytes > bytesAtLease + 8000 && listener.lastDataAt > leaseAt,
            {
              timeoutMs: 15_000,
              intervalMs: 100,
            },
          );
          const listenerAt = performance.now();
          assert.equal(listener.ended, false, 'the held stream never ended');
          const seconds = (at: number) => ((at - killedAt) / 1000).toFixed(1);
          console.log(
            `failover: media ${dying.node.index} killed; lease taken ${seconds(leaseAt)} s after SIGKILL, publisher back ${seconds(publisherAt)} s, listener hearing again ${seconds(listenerAt)} s`,
          );
          for (const at of [leaseAt, publisherAt, listenerAt]) assert.ok(at - killedAt < 10_000, `${seconds(at)} s`);
          const played = await hls;
          const playedSeconds = played.pcm.length / SAMPLE_RATE;
          console.log(
            `failover: the HLS player (ffmpeg) ended with code ${played.code} after ${playedSeconds.toFixed(1)} s of audio, 440 Hz share ${toneShare(played.pcm, 440).toFixed(3)}`,
          );
          assert.equal(played.code, 0, played.stderr);
          // 20 s of media time asked; the lost segment (2 s, a gap in the timeline) is skipped, not played.
          assert.ok(playedSeconds >= 17.5, `the HLS player played ${playedSeconds} s of 20 (less the 2 s gap)`);
          assert.ok(toneShare(played.pcm, 440) > 0.9, 'the HLS player heard the tone before and after');

          // The show goes on on the new node: a few segments after the gap reach the bucket.
          await eventually(
            'segments after the gap in the bucket',
            async () => {
              const live = await bucketManifest(objects, spaceId);
              const gap = live?.segments.findIndex((s) => s.gap === true) ?? -1;
              return gap !== -1 && live!.segments.length - gap > 3;
            },
            { timeoutMs: 20_000 },
          );
        } finally {
          await hls?.catch(() => undefined);
          listener.close();
          await speaker.close();
        }
        assert.equal((await api('POST', `/api/spaces/${spaceId}/end`, host.token)).status, 200);
        const final = await finalManifest(objects, spaceId);
        const gaps = final.segments.filter((s) => s.gap === true);
        const keys = new Set(await objects.list(`${spaceId}/`));
        console.log(`failover: ${final.segments.length} segments, gaps at ${gaps.map((g) => g.msn).join(', ')}`);
        assert.ok(gaps.length >= 1);
        assert.deepEqual(
          gaps.map((g) => g.msn),
          gaps.map((_, i) => gaps[0]!.msn + i),
          'one marked gap (one run of gap segments)',
        );
        const gapMs = gaps.reduce((n, g) => n + g.durationMs, 0);
        assert.ok(gapMs <= 10_000, `the gap lasts ${gapMs} ms`);
        // The gap covers the hole as the wall clock saw it: from the end of the last segment before it
        // to the start of the first after it (rounded up to whole segments).
        const after = final.segments.find((s) => s.msn === gaps.at(-1)!.msn + 1)!;
        const holeMs = after.programDateTimeMs - gaps[0]!.programDateTimeMs;
        console.log(`failover: the hole lasted ${holeMs} ms; listed as ${gaps.length} gap segments (${gapMs} ms)`);
        assert.ok(gapMs >= holeMs && gapMs - holeMs < final.segmentTargetMs, `hole ${holeMs} ms, gap ${gapMs} ms`);
        const lastFence = Number(await redis.get(`amphi:media:fence:{${spaceId}}`));
        assert.ok(lastFence >= 2);
        assert.equal((await objects.head(`${spaceId}/recording.json`))?.fence, lastFence, "written under the last owner's fence");
        assert.equal(final.segments.filter((s) => s.discontinuity === true).length, 1, 'one discontinuity: the new encoder');
        assert.deepEqual(
          final.segments.filter((s) => s.gap !== true && !keys.has(`${spaceId}/s${s.msn}.m4s`)).map((s) => s.msn),
          [],
          'nothing else missing',
        );
        // The replay, from the bucket through the surviving node, in a real player.
        const surviving = medias.find((m) => m.node.child.exitCode === null && m.node.child.signalCode === null)!;
        const decoded = await ffmpegDecode(`${surviving.node.url}/api/spaces/${spaceId}/recording.m4a`);
        assert.equal(decoded.code, 0, decoded.stderr);
        const listedMs = final.segments.filter((s) => s.gap !== true).reduce((n, s) => n + s.durationMs, 0);
        const decodedMs = (decoded.pcm.length / SAMPLE_RATE) * 1000;
        console.log(
          `failover: replay decoded ${decodedMs.toFixed(0)} ms of ${listedMs} ms listed, 440 Hz share ${toneShare(decoded.pcm, 440).toFixed(3)}`,
        );
        assert.ok(Math.abs(decodedMs - listedMs) <= 100, `decoded ${decodedMs} ms, listed ${listedMs} ms`);
        assert.ok(toneShare(decoded.pcm, 440) > 0.8, 'the tone, before and after the failover');
      } finally {
        objects.close();
        redis.disconnect();
      }
    });
  },
);
