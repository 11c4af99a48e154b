/** Listeners let in before a drill begins, the way any client joins. */
import { Agent } from 'node:http';
import { httpCall, parseJson } from './http-call.ts';
import { sleep } from './sleep.ts';

/**
 * Admits `count` anonymous listeners to a Space at `perSecond` (under capacity, so they are not
 * queued; if one is, it follows the line like anyone else). Returns their tokens.
 */
export async function admitListeners(
  url: string,
  spaceId: string,
  count: number,
  perSecond: number,
  sources: readonly string[],
): Promise<string[]> {
  const base = new URL(url);
  const agents = sources.map((localAddress) => new Agent({ keepAlive: true, localAddress, maxSockets: 16 }));
  const path = `/api/spaces/${spaceId}/join`;
  // Paced under capacity, nobody should wait long: one who is still in line a minute past the last
  // join's slot means the door is not admitting, and the drill fails saying so instead of waiting on.
  const until = Date.now() + (count / perSecond) * 1000 + 60_000;
  const one = async (i: number): Promise<string> => {
    const agent = agents[i % agents.length]!;
    let a = await httpCall(base, agent, 'POST', path, undefined, 10_000);
    while (a.status === 202 && Date.now() < until) {
      const t = parseJson(a.body)!;
      await sleep(500);
      const l = parseJson((await httpCall(base, agent, 'GET', String(t.lineUrl), undefined, 10_000)).body);
      if (typeof l?.nowServing === 'number' && l.nowServing >= Number(t.number))
        a = await httpCall(base, agent, 'POST', path, JSON.stringify({ ticket: t.ticket, client: t.client }), 10_000);
    }
    const token = parseJson(a.body)?.token;
    if (a.status !== 200 || typeof token !== 'string')
      throw new Error(
        `setup: admitting listener ${i}: the join answered ${a.status}${a.status === 202 ? ' (still in line)' : ''}: ${a.body}`,
      );
    return token;
  };
  const t0 = Date.now();
  const pending: Promise<string>[] = [];
  let failed = false;
  for (let i = 0; i < count && !failed; i++) {
    const joining = one(i);
    // Handled now, not at Promise.all below: a join refused while later ones are still being paced
    // was an unhandled rejection, which killed the process past its teardown (Amphi left running).
    joining.catch(() => (failed = true));
    pending.push(joining);
    const due = t0 + ((i + 1) * 1000) / perSecond;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  const tokens = await Promise.all(pending);
  for (const a of agents) a.destroy();
  return tokens;
}
