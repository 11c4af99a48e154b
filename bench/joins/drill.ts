/**
 * `amphi bench joins`: the flash-crowd drill. A crowd at 10x the join capacity for S seconds, FIFO and
 * honest ETAs in the waiting room, and the listeners already admitted never notice.
 *
 *   npx amphi bench joins [--capacity 200] [--seconds 60] [--listeners 1000] [--drain-seconds 120]
 *                         [--line-poll cdn|direct] [--json]
 *
 * Starts Amphi pinned to CPU 0 (admission.joinsPerSecond = joinBurst = capacity; proof of work off:
 * its threshold is lifted, PoW is not part of this drill) and pins this process (the generator) to
 * CPU 1. L listeners are admitted to the live demo Space first (paced under capacity) and hold its
 * `live.mp4` stream for the crowd and the expected drain, their stalls counted. A host signs up and
 * creates a scheduled Space B. Then, for S seconds, the crowd (crowd.ts: distinct anonymous clients,
 * each with its own loopback source address among many, under the per-address join limit) joins B at
 * 10x capacity and follows its tickets. At S/2 the host presses "go live". The drill ends when every
 * ticket has been exchanged or S + drain seconds passed. Loopback only; bounded in count and time;
 * stops by itself. Writes reports/bench-joins.{json,html}.
 *
 * `--line-poll cdn` (the default): at 10x a 200/s capacity the line grows by 1800 a second, and 100k
 * clients each polling Amphi directly would measure the generator, not the door; `direct` is for
 * small runs and tests. The definitions of errors, FIFO violations and ETA errors are in crowd.ts,
 * fifo.ts and analysis.ts.
 */
import { admitListeners } from '../lib/admit.ts';
import { benchConfig, demoSpace, startAmphi } from '../lib/amphi.ts';
import { createSpace, jsonApi, signUp } from '../lib/json-api.ts';
import { pinSelf } from '../lib/proc.ts';
import { sleep } from '../lib/sleep.ts';
import { withTeardown } from '../lib/teardown.ts';
import { loopbackSources, type SimResult } from '../listener-sim.ts';
import { simulateProgressive } from '../progressive-sim.ts';
import { runCrowd } from './crowd.ts';
import { reportDrill, summarizeDrill } from './drill-report.ts';
import { drillPlan, type DrillPlan, type JoinsBenchOptions } from './drill-plan.ts';

import { watchServer } from './server-watch.ts';

const log = (s: string) => process.stderr.write(`${s}\n`);

/** Amphi's config for the drill: the door at `capacity`, proof of work out of reach. */
function drillConfig(o: JoinsBenchOptions, p: DrillPlan): Record<string, unknown> {
  return benchConfig({
    stage: { programBitrateBps: 32_000 },
    tokens: { listenerTokenTtlSeconds: Math.min(86_400, Math.max(300, Math.ceil(p.listenS + p.crowdBoundS + 120))) },
    admission: doorAt(o.capacity),
  });
}

/** The door at `capacity` joins/s (bursts included); proof of work out of reach (not part of a drill). */
export function doorAt(capacity: number) {
  return {
    joinsPerSecond: capacity,
    joinBurst: capacity,
    maxListeners: 1_000_000,
    pow: { thresholdJoinsPerSecond: 1e9 },
    limits: { joinsPerAddress: { capacity: 1000, refillPerSecond: 100 } },
  };
}

/** The crowd's own addresses: at most half the per-address refill (100/s) each. */
export function crowdSources(rate: number, capacity: number): string[] {
  return Array.from(
    { length: Math.min(2000, Math.max(8, Math.ceil((rate + capacity) / 50))) },
    (_, i) => `127.${1 + Math.floor(i / 62_500)}.${Math.floor((i % 62_500) / 250)}.${(i % 250) + 1}`,
  );
}

/** At S/2 the host goes live: the 200 and the public view saying live. */
async function goLive(api: ReturnType<typeof jsonApi>, spaceId: string, hostToken: string, afterS: number) {
  await sleep(afterS * 1000);
  const pressed = Date.now();
  const started = await api('POST', `/api/spaces/${spaceId}/start`, hostToken);
  const startMs = Date.now() - pressed;
  let liveMs: number | undefined;
  while (Date.now() - pressed < 10_000) {
    const view = await api('GET', `/api/spaces/${spaceId}`);
    if ((view.json as { space?: { state?: string } } | undefined)?.space?.state === 'live') {
      liveMs = Date.now() - pressed;
      break;
    }
    await sleep(20);
  }
  log(`  host pressed go-live: ${started.status} in ${startMs} ms, public view live after ${liveMs ?? 'never (10 s)'} ms`);
  return { status: started.status, startMs, liveMs };
}

/** The host signs up and creates Space B, scheduled. */
async function hostSpace(api: ReturnType<typeof jsonApi>): Promise<{ hostToken: string; spaceId: string }> {
  const { token: hostToken } = await signUp(api, 'crowd_host');
  return { hostToken, spaceId: await createSpace(api, hostToken, 'Flash crowd', false) };
}

/** Listeners admitted under capacity (90% of it) before the crowd, then holding live.mp4 on the demo Space. */
async function admittedListeners(url: string, demo: string, o: JoinsBenchOptions, p: DrillPlan) {
  const sources = loopbackSources(Math.max(1, Math.ceil(o.listeners / 500)));
  const joinedAt = Date.now();
  const tokens = await admitListeners(url, demo, o.listeners, Math.max(1, 0.9 * o.capacity), sources);
  log(`  ${tokens.length} listeners admitted in ${((Date.now() - joinedAt) / 1000).toFixed(1)} s`);
  const listening: Promise<SimResult> = simulateProgressive({
    urls: tokens.map((t) => `${url}/l/${t}/${demo}/live.mp4`),
    seconds: p.listenS,
    rampPerSecond: 500,
    sourceAddresses: sources,
    framing: { kind: 'fmp4' },
  });
  return { admitted: tokens.length, listening };
}

export function runJoinsBench(o: JoinsBenchOptions): Promise<Record<string, unknown>> {
  const p = drillPlan(o);
  return withTeardown(async (t) => {
    const pinned = pinSelf(1);
    const amphi = await startAmphi(t, 'joins', drillConfig(o, p));
    const demo = await demoSpace(amphi.url);
    log(
      `joins drill: capacity ${o.capacity} joins/s, crowd ${p.rate}/s for ${o.seconds} s (drain bound ${o.drainSeconds} s), ` +
        `${o.listeners} admitted listeners on live.mp4; server on CPU 0, generator ${pinned ? 'on CPU 1' : 'unpinned'}; line polls: ${o.linePoll}`,
    );
    const api = jsonApi(() => amphi.url);
    const { hostToken, spaceId } = await hostSpace(api);
    await sleep(3000); // a few parts and a segment before anyone listens
    const listeners = await admittedListeners(amphi.url, demo, o, p);
    await sleep((p.listenerRampS + 3) * 1000);

    const sources = crowdSources(p.rate, o.capacity);
    const watch = watchServer(amphi.url, amphi.pid, o.seconds);
    const host = goLive(api, spaceId, hostToken, o.seconds / 2);
    const crowd = await runCrowd({
      baseUrl: amphi.url,
      spaceId,
      attemptsPerSecond: p.rate,
      seconds: o.seconds,
      drainSeconds: o.drainSeconds,
      sourceAddresses: sources,
      linePoll: o.linePoll,
      onProgress: (x) => {
        if (Math.round(x.elapsedS) % 5 === 0)
          log(
            `  ${Math.round(x.elapsedS)} s: ${x.attempts} attempts, ${x.tokens} tokens, ${x.tickets} tickets, ${x.exchanged} exchanged, ` +
              `${x.waiting} waiting (line ${x.nowServing}/${x.lastIssued} at ${x.perSecond.toFixed(0)}/s), ${x.errors} errors, ` +
              `server ${Math.round((watch.cpu.at(-1)?.share ?? 0) * 100)}% CPU, door capacity x${watch.door.at(-1)?.factor.toFixed(2) ?? '?'} ` +
              `(event-loop lag max ${watch.door.at(-1)?.lagMaxMs ?? '?'} ms)`,
          );
      },
    });
    const load = watch.stop();
    const hostResult = await host;
    const metricsText = await (await fetch(`${amphi.url}/metrics`)).text();
    log('  waiting for the listeners to finish their run...');
    const listened = await listeners.listening;
    const drill = { o, plan: p, crowd, crowdSources: sources.length, host: hostResult, listened, admitted: listeners.admitted };
    const summary = summarizeDrill(drill, load, metricsText);
    reportDrill(drill, load, summary);
    return summary;
  });
}
