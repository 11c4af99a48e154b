/**
 * Runs inside a network namespace made by whip-client.test.ts (a veth pair, nothing else): starts
 * Amphi with its stage on the namespace's address, has Debian's `whip-client` (GStreamer) publish a
 * 440 Hz tone into a live Space, decodes the program, and prints what it measured as JSON.
 */
import { spawn } from 'node:child_process';
import { toneShare, peak } from '../../src/stage/audio.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { startLiveServer } from '../helpers/server.ts';
import { concat, decodedProgram } from '../helpers/whip-client.ts';

const [cacheDir, address] = process.argv.slice(2) as [string, string];
/** The documented way to run Debian 12's whip-client (docs/networks.md), not an environment of the test's own. */
const WRAPPER = new URL('../../deploy/whip-client/whip-client-debian12.sh', import.meta.url).pathname;
// Every step bounded: the test kills this process (and the namespace with it) if it runs too long,
// but a harness that ends on its own reports what it saw.
const cleanup = new Cleanup({ stepLimitMs: 10_000 });
const result: Record<string, unknown> = {};
try {
  const server = cleanup.use(
    'server',
    await startLiveServer({ server: { port: 0, host: '127.0.0.1' }, stage: { port: 0, iceAddresses: [address] } }),
    (s) => s.shutdown(),
  );
  const { spaceId, host } = await server.liveSpace(0);
  const { whipUrl, token } = await server.stageToken(spaceId, host.token);
  const { pcm } = decodedProgram(server.stage, spaceId);
  const pipeline =
    'audiotestsrc is-live=true wave=sine freq=440 volume=0.5 ! audioconvert ! audioresample ! queue ! opusenc ! rtpopuspay pt=100 ssrc=1 ! queue ! application/x-rtp,media=audio,encoding-name=OPUS,payload=100';
  const client = cleanup.child(
    'whip-client',
    spawn(WRAPPER, ['-u', whipUrl, '-t', token, '-A', pipeline, '-l', '4', '-o'], {
      env: { ...process.env, XDG_CACHE_HOME: cacheDir },
    }),
    3000,
  );
  let log = '';
  client.stdout.on('data', (d: Buffer) => (log += d.toString()));
  client.stderr.on('data', (d: Buffer) => (log += d.toString()));
  // A harness measures and reports; the test judges. A wait that runs out is reported, not thrown.
  const deadline = Date.now() + 8000;
  await eventually(
    'whip-client to connect (or exit)',
    () => log.includes('PeerConnection connected') || client.exitCode !== null,
    { timeoutMs: 8000, intervalMs: 50 },
  ).catch((e: unknown) => (result.waited = String(e)));
  result.connected = log.includes('PeerConnection connected');
  const startFrame = pcm.length;
  // Collect 2.5 s of program (125 frames) after the connection is up, however long that takes.
  await eventually('2.5 s of program', () => pcm.length >= startFrame + 125, {
    timeoutMs: Math.max(0, deadline + 5000 - Date.now()),
  }).catch((e: unknown) => (result.waited = String(e)));
  const view = await server.api('GET', `/api/spaces/${spaceId}`);
  const heard = concat(pcm.slice(startFrame + 25)); // skip the first half second (jitter buffer, encoder warm-up)
  result.samples = heard.length;
  result.share440 = toneShare(heard, 440);
  result.share660 = toneShare(heard, 660);
  result.peak = peak(heard);
  result.hostSpeaking = view.json.space.stage[0].speaking;
  result.log = log
    .split('\n')
    .filter((l) => l.includes('[WHIP]'))
    .slice(-6);
} finally {
  await cleanup.run(); // whip-client first (SIGTERM, SIGKILL after 3 s), then the server
}
process.stdout.write(`${JSON.stringify(result)}\n`);
