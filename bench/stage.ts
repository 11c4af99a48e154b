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
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { cpuMicros } from './proc.ts';
import { writeReport } from './report.ts';
import { publishTone, type TonePublisher } from '../test/helpers/whip-client.ts';

const { values } = parseArgs({
  options: { spaces: { type: 'string', default: '8' }, seconds: { type: 'string', default: '10' } },
});
const spaces = Math.min(40, Math.max(1, Number(values.spaces)));
const seconds = Math.min(60, Math.max(2, Number(values.seconds)));
const root = new URL('..', import.meta.url).pathname;

function waitForUrl(child: ChildProcess): Promise<{ url: string; stageUrl: string }> {
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`amphi exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const e = JSON.parse(line) as { msg?: string; url?: string; stageUrl?: string };
      if (e.msg === 'amphi listening') resolve({ url: e.url!, stageUrl: e.stageUrl! });
    });
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dataDir = mkdtempSync(join(tmpdir(), 'amphi-bench-stage-'));
const amphi = spawn(
  'taskset',
  ['-c', '0', process.execPath, join(root, 'bin/amphi.mjs'), 'start', '--port', '0', '--stage-port', '0', '--data-dir', dataDir],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, AMPHI_LOG_LEVEL: 'info' } },
);
const publishers: TonePublisher[] = [];
try {
  const { url } = await waitForUrl(amphi);
  let n = 0;
  const api = async (path: string, token?: string, body: unknown = {}) => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
    });
    return (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- the bench reads API JSON
  };
  const account = async () => {
    const r = await api('/api/accounts', undefined, { handle: `bench_${n++}`, password: 'bench password' });
    return { id: r.account.id as string, token: r.token as string };
  };
  console.log(`stage bench: ${spaces} Spaces x 3 speakers, ${seconds} s measured; amphi on CPU 0, publishers on CPU 1`);
  for (let s = 0; s < spaces; s++) {
    const host = await account();
    const spaceId = (await api('/api/spaces', host.token, { title: `Bench ${s}` })).space.id as string;
    await api(`/api/spaces/${spaceId}/start`, host.token);
    const members = [host];
    for (let k = 0; k < 2; k++) {
      const speaker = await account();
      await api(`/api/spaces/${spaceId}/invitations`, host.token, { accountId: speaker.id });
      await api(`/api/spaces/${spaceId}/invitations/me/accept`, speaker.token);
      members.push(speaker);
    }
    for (const [k, member] of members.entries()) {
      const grant = await api(`/api/spaces/${spaceId}/stage`, member.token);
      publishers.push(
        await publishTone({
          whipUrl: grant.whipUrl,
          token: grant.token,
          frequencyHz: [440, 550, 660][k]!,
          decodeReceived: false,
        }),
      );
    }
    process.stdout.write(`\r  ${s + 1}/${spaces} Spaces publishing`);
  }
  process.stdout.write('\n');
  await sleep(3000); // warm-up: ICE, DTLS, JIT
  const received0 = publishers.reduce((sum, p) => sum + p.receivedPackets(), 0);
  const cpu0 = cpuMicros(amphi.pid!);
  const load0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const serverCpu = cpuMicros(amphi.pid!) - cpu0;
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
  writeReport('bench-stage', summary);
  console.log(JSON.stringify(summary));
} finally {
  for (const p of publishers) await p.close().catch(() => {});
  amphi.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
