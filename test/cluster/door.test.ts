import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeConfig } from '../../bench/lib/amphi.ts';
import type { JsonReply } from '../../bench/lib/json-api.ts';
import { apiAt, CLUSTER_TEST_CONFIG, clusterSuite, signUp } from '../helpers/cluster.ts';
import { eventually } from '../helpers/eventually.ts';

/** A listener token's subject, read without verifying (the server verified it). */
const subjectOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { u: string }).u;

/** The door shared by three control nodes: one line per Space in Redis, whichever node answers. */

const JOINS = 10_000;
const CONCURRENCY = 96;

/** Runs `count` calls, `concurrency` at a time, in order of index; resolves with every answer. */
async function pool<T>(count: number, concurrency: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await call(i);
      }
    }),
  );
  return out;
}

interface Ticket {
  readonly ticket: string;
  readonly number: number;
  readonly client: string;
}

/** Tickets of the 202 answers; fails on any answer other than 200 or 202. */
function ticketsOf(answers: readonly JsonReply[]): Ticket[] {
  const wrong = answers.filter((a) => a.status !== 200 && a.status !== 202);
  assert.deepEqual(wrong.slice(0, 3), [], `${wrong.length} joins were answered neither 200 nor 202`);
  return answers.filter((a) => a.status === 202).map((a) => a.json as Ticket);
}

clusterSuite(
  'cluster: the waiting room across three control nodes',
  {
    controls: 3,
    edges: 1,
    // A burst of 1 at 2,000 joins/s for the cluster: a crowd of joins builds a line at once, and the
    // line moves fast enough to come up within seconds. Tickets stay good long after coming up.
    config: mergeConfig(CLUSTER_TEST_CONFIG, { admission: { joinsPerSecond: 2000, joinBurst: 1, ticketTtlMs: 600_000 } }),
  },
  (cluster) => {
    test(`FIFO: ${JOINS} joins over 3 nodes get unique, gap-free numbers; each ticket admits once wherever presented; now-serving is the same on every node`, async () => {
      const { controls, url } = cluster();
      const host = await signUp(url, 'fifo_host');
      const spaceId = (await apiAt(url)('POST', '/api/spaces', host.token, { title: 'FIFO' })).json.space.id as string;
      const nodes = controls.map((c) => apiAt(c.url));
      const answers = await pool(JOINS, CONCURRENCY, (i) =>
        nodes[i % nodes.length]!('POST', `/api/spaces/${spaceId}/join`, undefined, {}),
      );
      const tickets = ticketsOf(answers);
      assert.ok(tickets.length >= JOINS / 2, `the crowd built a line: ${tickets.length} of ${JOINS} joins got a ticket`);
      const numbers = tickets.map((t) => t.number).sort((a, b) => a - b);
      assert.deepEqual(
        numbers.filter((n, i) => n !== i + 1).slice(0, 5),
        [],
        `numbers 1..${tickets.length}, each once (first differences shown)`,
      );
      // Every node reads the same line: once it has moved past the last number, they all say so.
      const last = numbers.at(-1)!;
      const lines = await eventually(
        'now-serving to reach the last number on every node',
        async () => {
          const read = await Promise.all(nodes.map((api) => api('GET', `/api/spaces/${spaceId}/line`)));
          return (
            read.every((r) => r.json.nowServing >= last) && read.map((r) => r.json as { nowServing: number; lastIssued: number })
          );
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      assert.deepEqual(new Set(lines.map((l) => `${l.nowServing}/${l.lastIssued}`)).size, 1, 'one line, one reading');
      // Each ticket presented at two different nodes at once, as a client whose first answer was lost
      // retries: the number is redeemed once (one admission, counted on one node), and both answers
      // are a token for the same listener, the ticket's own subject.
      const exchanged = async () => {
        const read = await Promise.all(nodes.map((api) => api('GET', '/metrics')));
        return read
          .map((r) => Number(/amphi_admission_join_decisions_total\{decision="exchanged"\} (\d+)/.exec(String(r.json))?.[1]))
          .reduce((a, b) => a + b, 0);
      };
      const exchangedBefore = await exchanged();
      const redeemed = await pool(tickets.length, CONCURRENCY / 2, async (i) => {
        const { ticket, client } = tickets[i]!;
        const body = { ticket, client };
        const pair = await Promise.all([
          nodes[i % 3]!('POST', `/api/spaces/${spaceId}/join`, undefined, body),
          nodes[(i + 1) % 3]!('POST', `/api/spaces/${spaceId}/join`, undefined, body),
        ]);
        const subjects = new Set(pair.map((r) => (r.status === 200 ? subjectOf(r.json.token as string) : undefined)));
        return (
          pair
            .map((r) => (r.status === 200 ? 'ok' : `${r.status} ${r.json?.error?.details?.reason ?? r.json?.error?.code}`))
            .join(' + ') + (subjects.size === 1 ? '' : ' (two subjects)')
        );
      });
      const outcomes = new Map<string, number>();
      for (const pair of redeemed) outcomes.set(pair, (outcomes.get(pair) ?? 0) + 1);
      assert.deepEqual(
        Object.fromEntries(outcomes),
        { 'ok + ok': tickets.length },
        "both answers a token for the ticket's subject",
      );
      assert.equal((await exchanged()) - exchangedBefore, tickets.length, 'one admission per ticket, over the three nodes');
    });

    test('SIGKILL of a control node during a flash crowd: clients behind nginx see no error, and numbers stay unique', async () => {
      const { controls, url } = cluster();
      const host = await signUp(url, 'crowd_host');
      const spaceId = (await apiAt(url)('POST', '/api/spaces', host.token, { title: 'Crowd' })).json.space.id as string;
      const front = apiAt(url);
      const victim = controls[1]!;
      let done = 0;
      const answers = await pool(3000, 48, async () => {
        const answer = await front('POST', `/api/spaces/${spaceId}/join`, undefined, {});
        if (++done === 1000) victim.kill('SIGKILL');
        return answer;
      });
      const tickets = ticketsOf(answers);
      const numbers = tickets.map((t) => t.number);
      assert.equal(new Set(numbers).size, numbers.length, 'no number given twice');
      // A join the killed node took but never answered was retried elsewhere: its number is skipped (at
      // most one per request in flight), never given twice.
      const skipped = Math.max(...numbers) - numbers.length;
      assert.ok(skipped <= 48, `${skipped} numbers skipped (at most the 48 requests in flight)`);
      await victim.restart();
      const after = await apiAt(victim.url)('GET', `/api/spaces/${spaceId}/line`);
      assert.equal(after.status, 200);
      assert.ok(after.json.lastIssued >= Math.max(...numbers), 'the restarted node reads the same line');
    });
  },
);
