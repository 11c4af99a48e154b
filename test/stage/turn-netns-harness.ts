/**
 * Runs inside a network namespace made by turn-netns.test.ts (a veth pair, nothing else). The stage
 * (and, for `turn`, coturn) listen on v0's address; the speaker, `amphi publish`, runs in a namespace
 * of its own holding v1, where nftables drops every UDP packet in and out. Mode `turn`: the stage
 * names coturn (TURN over TCP, time-limited credentials from its static-auth-secret) and coturn
 * relays over UDP to the stage outside the speaker's namespace. Mode `tcp`: the stage offers passive
 * ICE-TCP. Mode `none`: neither. Prints what it measured as JSON; the test judges.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exited } from '../../bench/lib/teardown.ts';
import { peak, toneShare } from '../../src/stage/audio.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { startLiveServer } from '../helpers/server.ts';
import { concat, decodedProgram } from '../helpers/whip-client.ts';

const [mode, dir, stageAddress, speakerAddress] = process.argv.slice(2) as ['turn' | 'tcp' | 'none', string, string, string];
const SECRET = 'turn-netns-test-static-auth-secret';
const TURN_PORT = 3478;
const bin = new URL('../../bin/amphi.mjs', import.meta.url).pathname;
const cleanup = new Cleanup({ stepLimitMs: 8000 });
const result: Record<string, unknown> = { mode };
try {
  const server = cleanup.use(
    'server',
    await startLiveServer({
      server: { port: 0, host: stageAddress },
      stage: {
        port: 0,
        iceAddresses: [stageAddress],
        iceTcp: mode === 'tcp',
        icePortRange: { min: 41_000, max: 41_099 },
        turn: {
          urls: mode === 'turn' ? [`turn:${stageAddress}:${TURN_PORT}?transport=tcp`] : [],
          secret: mode === 'turn' ? SECRET : null,
          username: null,
          credential: null,
          credentialTtlSeconds: 600,
        },
      },
    }),
    (s) => s.shutdown(),
  );
  let turnLog = '';
  if (mode === 'turn') {
    const turn = cleanup.child(
      'coturn',
      spawn('turnserver', [
        ...['-n', '--verbose', '--log-file=stdout', '--simple-log', '--no-cli', '--no-tls', '--no-dtls', '--fingerprint'],
        ...[`--listening-ip=${stageAddress}`, `--relay-ip=${stageAddress}`, `--listening-port=${TURN_PORT}`],
        ...['--use-auth-secret', `--static-auth-secret=${SECRET}`, '--realm=amphi.test'],
        ...['--min-port=42000', '--max-port=42099', `--pidfile=${join(dir, 'turnserver.pid')}`],
      ]),
      2000,
    );
    turn.stdout.on('data', (d: Buffer) => (turnLog += d.toString()));
    turn.stderr.on('data', (d: Buffer) => (turnLog += d.toString()));
    await eventually(
      'coturn to listen',
      () => /listener opened on|Total General servers/i.test(turnLog) || turn.exitCode !== null,
      {
        timeoutMs: 5000,
      },
    );
  }
  const { spaceId, host } = await server.liveSpace(0);
  const { whipUrl, token } = await server.stageToken(spaceId, host.token);
  const { pcm } = decodedProgram(server.stage, spaceId);

  // The speaker's namespace: UDP dropped both ways, so only TCP (to TURN, or ICE-TCP) can work.
  const rules = join(dir, 'no-udp.nft');
  writeFileSync(
    rules,
    [
      'table inet f {',
      '  chain out { type filter hook output priority 0; meta l4proto udp drop; }',
      '  chain in { type filter hook input priority 0; meta l4proto udp drop; }',
      '}',
      '',
    ].join('\n'),
  );
  const script = [
    'set -e',
    'read go', // v1 is moved in first
    'ip link set lo up',
    `ip addr add ${speakerAddress}/24 dev v1`,
    'ip link set v1 up',
    `nft -f ${rules}`,
    `exec "${process.execPath}" "${bin}" publish --url "${whipUrl}" --token "${token}" --tone 440 --duration 20 --connect-timeout 8`,
  ].join('\n');
  const speaker = cleanup.child('the speaker', spawn('unshare', ['--net', 'sh', '-c', script], { stdio: 'pipe' }), 4000);
  let out = '';
  let err = '';
  speaker.stdout.on('data', (d: Buffer) => (out += d.toString()));
  speaker.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const move = spawn('ip', ['link', 'set', 'v1', 'netns', String(speaker.pid)], { stdio: 'inherit' });
  await exited(move);
  if (move.exitCode !== 0) throw new Error('could not move v1 into the speaker’s namespace');
  const started = Date.now();
  speaker.stdin.write('go\n');
  await eventually('the speaker to connect (or exit)', () => out.includes('connected to') || speaker.exitCode !== null, {
    timeoutMs: 15_000,
    intervalMs: 20,
  }).catch((e: unknown) => (result.waited = String(e)));
  result.connected = out.includes('connected to');
  result.connectMs = Date.now() - started;
  result.reportedMs = Number(/in (\d+) ms/.exec(out)?.[1] ?? Number.NaN);
  result.path = /via (.*); sending/.exec(out)?.[1];
  if (result.connected === true) {
    const start = pcm.length;
    await eventually('2.5 s of program', () => pcm.length >= start + 125, { timeoutMs: 8000 }).catch(
      (e: unknown) => (result.waited = String(e)),
    );
    const heard = concat(pcm.slice(start + 25));
    result.samples = heard.length;
    result.share440 = toneShare(heard, 440);
    result.peak = peak(heard);
  } else {
    await exited(speaker);
    result.exitCode = speaker.exitCode;
  }
  result.stderr = err.trim().split('\n').slice(-3);
  result.turnAllocations = (turnLog.match(/ALLOCATE processed, success/g) ?? []).length;
  result.turnLog = turnLog
    .split('\n')
    .filter((l) => /alloc/i.test(l))
    .slice(0, 4);
} catch (error) {
  result.error = String(error);
} finally {
  await cleanup.run().catch((e: unknown) => (result.cleanup = String(e)));
}
process.stdout.write(`${JSON.stringify(result)}\n`);
