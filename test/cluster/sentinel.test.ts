import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiAt, CLUSTER_TEST_CONFIG, clusterSuite, holdStream, signUp } from '../helpers/cluster.ts';
import { eventually } from '../helpers/eventually.ts';

/** Redis through Sentinel: the master dies, a replica takes over, the fleet follows by itself. */

clusterSuite(
  'cluster: a Redis failover through Sentinel',
  { controls: 2, edges: 1, sentinel: true, config: CLUSTER_TEST_CONFIG },
  (cluster) => {
    test('SIGKILL of the Redis master: joins go on (local capacity; never a pause over 5 s, only honest refusals), the line is back after the failover, the listener never stalls', async () => {
      const { url, redis } = cluster();
      const api = apiAt(url);
      const host = await signUp(url, 'failover_host');
      const spaceId = (await api('POST', '/api/spaces', host.token, { title: 'Failover' })).json.space.id as string;
      assert.equal((await api('POST', `/api/spaces/${spaceId}/start`, host.token)).status, 200);
      const grant = (await api('POST', `/api/spaces/${spaceId}/join`, undefined, {})).json as { streamUrl: string };
      const held = holdStream(grant.streamUrl);
      await eventually('audio', () => held.bytes > 0, { timeoutMs: 10_000 });

      const answers: { at: number; status: number; code: string | undefined; retryAfter: string | null }[] = [];
      let longestGapMs = 0;
      let joining = true;
      const loop = (async () => {
        while (joining) {
          const res = await fetch(`${url}/api/spaces/${spaceId}/join`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          });
          const body = (await res.json()) as { error?: { code: string } };
          answers.push({
            at: performance.now(),
            status: res.status,
            code: body.error?.code,
            retryAfter: res.headers.get('retry-after'),
          });
          longestGapMs = Math.max(longestGapMs, performance.now() - held.lastDataAt);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      try {
        await eventually('joins to flow', () => answers.filter((a) => a.status === 200).length >= 5);
        const killedAt = performance.now();
        redis.child.kill('SIGKILL');
        // The line needs Redis: it answers again once the sentinels promoted the replica.
        const lineUrl = `${url}/api/spaces/${spaceId}/line`;
        await eventually('the line to be unreachable', async () => (await fetch(lineUrl)).status === 503, {
          timeoutMs: 5000,
          intervalMs: 50,
        });
        await eventually('the line to answer after the failover', async () => (await fetch(lineUrl)).status === 200, {
          timeoutMs: 15_000,
          intervalMs: 100,
        });
        const failedOverAt = performance.now();
        await eventually('more joins after the failover', () => answers.filter((a) => a.at > failedOverAt).length >= 5);
        const after = answers.filter((a) => a.at > killedAt);
        const refused = after.filter((a) => a.status !== 200);
        const admitted = [killedAt, ...after.filter((a) => a.status === 200).map((a) => a.at)];
        const longestPauseMs = Math.max(...admitted.slice(1).map((at, i) => at - admitted[i]!));
        console.log(
          `Sentinel failover: the line was back after ${Math.round(failedOverAt - killedAt)} ms; meanwhile ${after.length - refused.length} joins admitted, ${refused.length} refused; longest pause between admitted joins ${Math.round(longestPauseMs)} ms; longest audio gap ${Math.round(longestGapMs)} ms`,
        );
        for (const a of refused)
          assert.equal(`${a.status} ${a.code} retry-after=${a.retryAfter}`, '503 SHARED_STATE_UNAVAILABLE retry-after=2');
        assert.ok(longestPauseMs <= 5000, `joins paused ${Math.round(longestPauseMs)} ms (at most 5 s)`);
        assert.equal(held.ended, false, 'the listener was never cut off');
        assert.ok(longestGapMs < 1500, `audio kept coming (longest gap ${Math.round(longestGapMs)} ms)`);
      } finally {
        joining = false;
        await loop;
        held.close();
      }
    });
  },
);
