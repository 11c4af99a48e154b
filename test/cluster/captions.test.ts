import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { keepPublishing } from '../../bench/lib/whip-tone.ts';
import { leaseOwner } from '../../src/cluster/lease.ts';
import { apiAt, CLUSTER_TEST_CONFIG, clusterSkip, clusterSuite, signUp, stageGrant } from '../helpers/cluster.ts';
import { eventually } from '../helpers/eventually.ts';
import { optionalSuite } from '../helpers/skip.ts';
import { captionsSkip } from '../captions/speech.ts';

const NAME = 'cluster: live captions are toggled through a control node and follow the Space to another media node';
const skip = clusterSkip || captionsSkip(NAME);

/** Whether the Space's room state (what its listeners read, through an edge) says it is captioned. */
async function captionedFor(playlistUrl: string): Promise<boolean | undefined> {
  const res = await fetch(new URL('state.json', playlistUrl));
  if (res.status !== 200) return undefined;
  return ((await res.json()) as { state: { captions?: { on?: boolean } } }).state.captions?.on;
}

/**
 * Two media nodes, captions on them: the host's toggle reaches a control node (through nginx), which
 * passes it to the media node holding the Space; the choice is kept in PostgreSQL, so when that node
 * dies (SIGKILL), the one that takes the Space over captions it again, and a later "off" holds too.
 */
if (skip !== false) optionalSuite(NAME, { skip }, () => {});
else
  clusterSuite(
    NAME,
    {
      controls: 1,
      edges: 1,
      media: 2,
      bucket: true,
      config: { ...CLUSTER_TEST_CONFIG, captions: { enabled: true, maxSpaces: 2 } },
    },
    (cluster) => {
      test('on through the control node; still on after the owner is killed; off holds', { timeout: 120_000 }, async () => {
        const { url, medias, redisUrl } = cluster();
        const redis = new Redis(redisUrl);
        redis.on('error', () => {}); // the cluster's Redis stops before this client at teardown
        const api = apiAt(url);
        const host = await signUp(url, 'captions_host');
        const listener = await signUp(url, 'captions_listener');
        const spaceId = (await api('POST', '/api/spaces', host.token, { title: 'Captions across nodes' })).json.space
          .id as string;
        assert.equal((await api('POST', `/api/spaces/${spaceId}/start`, host.token)).status, 200);
        const grant = stageGrant(url, spaceId, host.token);
        const speaker = await keepPublishing({ grant, frequencyHz: 440 });
        try {
          const { playlistUrl } = (await api('POST', `/api/spaces/${spaceId}/join`, undefined, {})).json as {
            playlistUrl: string;
          };
          await eventually('the room state served', async () => (await captionedFor(playlistUrl)) === false, {
            timeoutMs: 15_000,
          });

          const refused = await api('PUT', `/api/spaces/${spaceId}/captions`, listener.token, { on: true });
          assert.equal(refused.status, 403, 'a listener may not: checked before the media node is asked');
          const on = await api('PUT', `/api/spaces/${spaceId}/captions`, host.token, { on: true });
          assert.deepEqual([on.status, on.json], [200, { on: true, automatic: true }]);
          await eventually('listeners see captions on', async () => (await captionedFor(playlistUrl)) === true, {
            timeoutMs: 10_000,
          });

          const owner = (await leaseOwner(redis, spaceId))!;
          const fleet = JSON.parse((await redis.get(`amphi:fleet:node:${owner.nodeId}`))!) as { url: string };
          const dying = medias.find((m) => m.node.url === fleet.url);
          assert.ok(dying !== undefined, `the owner ${owner.nodeId} is one of the media nodes`);
          dying.node.kill('SIGKILL');
          await eventually(
            'another node holds the Space',
            async () => ((await leaseOwner(redis, spaceId))?.nodeId ?? owner.nodeId) !== owner.nodeId,
            { timeoutMs: 20_000, intervalMs: 200 },
          );
          await eventually('captions on again on the new owner', async () => (await captionedFor(playlistUrl)) === true, {
            timeoutMs: 20_000,
            intervalMs: 200,
          });

          const off = await api('PUT', `/api/spaces/${spaceId}/captions`, host.token, { on: false });
          assert.deepEqual([off.status, off.json], [200, { on: false, automatic: true }]);
          await eventually('listeners see captions off', async () => (await captionedFor(playlistUrl)) === false, {
            timeoutMs: 10_000,
          });
        } finally {
          await speaker.close();
          redis.disconnect();
        }
      });
    },
  );
