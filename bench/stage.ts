/**
 * Spaces per stage core: N live Spaces, 3 speakers each (host + 2), every speaker publishing Opus
 * over real WebRTC (werift) and hearing the other two, every program mixed and encoded.
 *
 *   npm run bench:stage [-- --spaces 8 --seconds 10]
 *
 * Amphi runs pinned to CPU 0; the publishers (werift, in this process) on CPU 1. The server's CPU
 * time is read from /proc over the steady-state window and divided by Space-seconds: the figure is
 * CPU-us per Space-second, and Spaces per core is 1e6 divided by it. Loopback only; bounded; stops
 * by itself. Writes reports/bench-stage.json.
 */
import { startAmphi } from './lib/amphi.ts';
import { createSpace, jsonApi, must, signUp } from './lib/json-api.ts';
import { cpuMicros } from './lib/proc.ts';
import { writeReport } from './lib/report.ts';
import { sleep } from './lib/sleep.ts';
import { withTeardown, type Teardown } from './lib/teardown.ts';
import { publishTone, type TonePublisher } from './lib/whip-tone.ts';

export interface StageBenchOptions {
  readonly spaces: number;
  readonly seconds: number;
}

/** `spaces` live Spaces of three speakers each (a host and two invited), every speaker publishing a tone. */
async function publishSpaces(t: Teardown, url: string, spaces: number): Promise<TonePublisher[]> {
  const publishers: TonePublisher[] = [];
  t.add(async () => {
    for (const p of publishers) await p.close().catch(() => {});
  });
  const api = jsonApi(() => url);
  let n = 0;
  const account = () => signUp(api, `bench_${n++}`);
  for (let s = 0; s < spaces; s++) {
    const host = await account();
    const spaceId = await createSpace(api, host.token, `Bench ${s}`, true);
    const members = [host];
    for (let k = 0; k < 2; k++) {
      const speaker = await account();
      await must('inviting a speaker', api('POST', `/api/spaces/${spaceId}/invitations`, host.token, { accountId: speaker.id }));
      await must('accepting the invitation', api('POST', `/api/spaces/${spaceId}/invitations/me/accept`, speaker.token, {}));
      members.push(speaker);
    }
    for (const [k, member] of members.entries()) {
      const grant = (await must('the stage grant', api('POST', `/api/spaces/${spaceId}/stage`, member.token, {}))).json as {
        whipUrl: string;
        token: string;
      };
      const publisher = await publishTone({
        whipUrl: grant.whipUrl,
        token: grant.token,
        frequencyHz: [440, 550, 660][k]!,
        decodeReceived: false,
      });
      publishers.push(publisher);
      if (publisher.status !== 201)
        throw new Error(`setup: the WHIP offer of speaker ${k} in Space ${s} answered ${publisher.status}`);
    }
    process.stdout.write(`\r  ${s + 1}/${spaces} Spaces publishing`);
  }
  process.stdout.write('\n');
  return publishers;
}

export function runStageBench({ spaces, seconds }: StageBenchOptions): Promise<void> {
  return withTeardown(async (t) => {
    // The stage's own config, not the listener benches': the program at its default bitrate.
    // Three sign-ups per Space from one address: the per-address password limit (20, then one per 2 s)
    // is lifted, or the seventh Space's sign-ups are refused (and the bench read `undefined`).
    const amphi = await startAmphi(t, 'stage', {
      rateLimits: { authPerAddress: { capacity: 1_000_000, refillPerSecond: 1_000_000 } },
    });
    console.log(`stage bench: ${spaces} Spaces x 3 speakers, ${seconds} s measured; amphi on CPU 0, publishers on CPU 1`);
    const publishers = await publishSpaces(t, amphi.url, spaces);
    await sleep(3000); // warm-up: ICE, DTLS, JIT
    const received0 = publishers.reduce((sum, p) => sum + p.receivedPackets(), 0);
    const cpu0 = cpuMicros(amphi.pid);
    const load0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await sleep(seconds * 1000);
    const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const serverCpu = cpuMicros(amphi.pid) - cpu0;
    const loadCpu = process.cpuUsage(load0);
    const received = publishers.reduce((sum, p) => sum + p.receivedPackets(), 0) - received0;
    const perSpaceSecond = serverCpu / (spaces * wallSeconds);
    const expectedReturn = publishers.length * 50 * wallSeconds;
    const summary = {
      method: 'werift publishers over loopback; server CPU from /proc over the steady-state window',
      spaces,
      speakersPerSpace: 3,
      seconds: Number(wallSeconds.toFixed(2)),
      serverCpuUtilisation: Number((serverCpu / (wallSeconds * 1e6)).toFixed(3)),
      cpuMicrosPerSpaceSecond: Math.round(perSpaceSecond),
      spacesPerCore: Math.floor(1e6 / perSpaceSecond),
      returnAudioDelivered: Number((received / expectedReturn).toFixed(3)),
      generatorCpuUtilisation: Number(((loadCpu.user + loadCpu.system) / (wallSeconds * 1e6)).toFixed(3)),
      target: '>= 20 Spaces per stage core (TARGETS.md)',
    };
    console.log(
      `server: ${Math.round(summary.serverCpuUtilisation * 100)}% of a core for ${spaces} Spaces = ${summary.cpuMicrosPerSpaceSecond} CPU-us per Space-second` +
        ` => ${summary.spacesPerCore} Spaces per stage core (target >= 20)`,
    );
    console.log(
      `return audio delivered to speakers: ${Math.round(summary.returnAudioDelivered * 100)}% of frames; generator ${Math.round(summary.generatorCpuUtilisation * 100)}% of a core`,
    );
    const page = writeReport('bench-stage', summary, {
      title: 'Spaces per stage core',
      plots: [],
      targets: [
        { name: 'Spaces per stage core', value: summary.spacesPerCore, target: '>= 20', pass: summary.spacesPerCore >= 20 },
        {
          name: 'return audio delivered',
          value: summary.returnAudioDelivered,
          target: '>= 0.99',
          pass: summary.returnAudioDelivered >= 0.99,
        },
      ],
    });
    console.log(`no peer: nothing else mixes Spaces; report ${page}`);
    console.log(JSON.stringify(summary));
  });
}
