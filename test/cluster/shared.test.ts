import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeConfig } from '../../bench/lib/amphi.ts';
import { solve } from '../../src/shared/pow-solve.ts';
import { apiAt, CLUSTER_TEST_CONFIG, clusterSuite, signUp } from '../helpers/cluster.ts';
import { eventually } from '../helpers/eventually.ts';

/** Limits and counts that must hold for the cluster as a whole, whichever node a request reaches. */

const AUTH_ATTEMPTS = 10;
const REACTIONS = 4;

clusterSuite(
  'cluster: limits and counts shared by every control node',
  {
    controls: 2,
    edges: 1,
    config: mergeConfig(CLUSTER_TEST_CONFIG, {
      rateLimits: {
        authPerAddress: { capacity: AUTH_ATTEMPTS, refillPerSecond: 0.001 },
        reactionsPerAccount: { capacity: REACTIONS, refillPerSecond: 0.001 },
      },
      // Every anonymous join needs a (small) proof of work.
      admission: { pow: { thresholdJoinsPerSecond: 0, minBits: 6, maxBits: 6, bitsPerDoubling: 0 } },
    }),
  },
  (cluster) => {
    const accounts: { host?: { id: string; token: string }; fan?: { id: string; token: string } } = {};

    test(`sign-in attempts per address are counted once for the cluster: ${AUTH_ATTEMPTS} over two nodes, then 429 on both`, async () => {
      const [a, b] = cluster().controls.map((c) => c.url);
      accounts.host = await signUp(a!, 'shared_host');
      accounts.fan = await signUp(b!, 'shared_fan');
      const statuses: number[] = [];
      for (let i = 2; i < AUTH_ATTEMPTS; i++) {
        const r = await apiAt(i % 2 === 0 ? a! : b!)('POST', '/api/sessions', undefined, {
          handle: 'shared_fan',
          password: 'not the password',
        });
        statuses.push(r.status);
      }
      assert.deepEqual(new Set(statuses), new Set([401]), 'wrong passwords, within the limit');
      for (const url of [a!, b!]) {
        const r = await apiAt(url)('POST', '/api/sessions', undefined, {
          handle: 'shared_fan',
          password: 'a long test password',
        });
        assert.equal(r.status, 429, `${url}: the cluster's ${AUTH_ATTEMPTS} attempts are used up`);
      }
    });

    test(`reactions: ${REACTIONS} per account over two nodes, and every node counts all of them within 1 s`, async () => {
      const [a, b] = cluster().controls.map((c) => apiAt(c.url));
      const { host, fan } = accounts;
      assert.ok(host !== undefined && fan !== undefined, 'the accounts of the first test');
      const spaceId = (await a!('POST', '/api/spaces', host.token, { title: 'Reactions' })).json.space.id as string;
      assert.equal((await a!('POST', `/api/spaces/${spaceId}/start`, host.token)).status, 200);
      const statuses = [];
      for (let i = 0; i < REACTIONS; i++)
        statuses.push(
          (await (i % 2 === 0 ? a! : b!)('POST', `/api/spaces/${spaceId}/reactions`, fan.token, { emoji: '🔥' })).status,
        );
      assert.deepEqual(statuses, Array<number>(REACTIONS).fill(202));
      assert.equal(
        (await b!('POST', `/api/spaces/${spaceId}/reactions`, fan.token, { emoji: '🔥' })).status,
        429,
        'the account’s limit is the cluster’s',
      );
      for (const api of [a!, b!]) {
        await eventually(
          'every reaction counted on this node',
          async () => {
            const { reactions } = (await api('GET', `/api/spaces/${spaceId}`)).json.space as {
              reactions: { emoji: string; count: number }[];
            };
            return reactions.find((r) => r.emoji === '🔥')?.count === REACTIONS;
          },
          { timeoutMs: 1000, intervalMs: 50 },
        );
      }
    });

    test('a solved proof of work is good once for the cluster: used on one node, refused on the other', async () => {
      const [a, b] = cluster().controls.map((c) => apiAt(c.url));
      const { host } = accounts;
      assert.ok(host !== undefined);
      const spaceId = (await a!('POST', '/api/spaces', host.token, { title: 'Puzzles' })).json.space.id as string;
      // Any join rate above 0 asks for work: the first join (the rate still 0) may be let through.
      const asked = await eventually('a challenge', async () => {
        const r = await a!('POST', `/api/spaces/${spaceId}/join`, undefined, {});
        return r.status === 428 && r;
      });
      const { challenge, client } = asked.json.error.details as { challenge: string; client: string };
      const pow = { challenge, solution: await solve(challenge) };
      const used = await a!('POST', `/api/spaces/${spaceId}/join`, undefined, { client, pow });
      assert.equal(used.status, 200, JSON.stringify(used.json));
      const replayed = await b!('POST', `/api/spaces/${spaceId}/join`, undefined, { client, pow });
      assert.deepEqual(
        [replayed.status, replayed.json.error.code, replayed.json.error.details.reason],
        [403, 'POW_INVALID', 'reused'],
      );
    });
  },
);
