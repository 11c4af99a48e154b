import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { exited } from '../../bench/lib/teardown.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { hasCommands, skipUnless } from '../helpers/skip.ts';

/**
 * Acceptance for speakers on networks that block UDP: `amphi publish` runs in a network namespace
 * whose UDP nftables drops both ways, and still reaches the stage, through coturn (TURN over TCP,
 * relaying over UDP outside that namespace) or through the stage's passive ICE-TCP, and is heard
 * (the program's spectrum). With neither, the same speaker does not connect. Everything runs in
 * namespaces of its own (veth pairs), so no packet leaves the machine. CI installs coturn and nftables
 * and sets AMPHI_TEST_WHIP_CLIENT=1; without it, and without the programs, it is skipped with a notice.
 */
const here = new URL('.', import.meta.url).pathname;
const skip = skipUnless({
  available: hasCommands('turnserver', 'nft', 'unshare', 'ip'),
  env: 'AMPHI_TEST_WHIP_CLIENT',
  suite: 'TURN and ICE-TCP network-namespace test',
  install: 'coturn and nftables',
});
const HARNESS_LIMIT_MS = 50_000;

interface Outcome {
  mode: string;
  connected: boolean;
  connectMs: number;
  reportedMs: number;
  path?: string;
  samples?: number;
  share440?: number;
  peak?: number;
  exitCode?: number;
  stderr: string[];
  turnAllocations: number;
  waited?: string;
  error?: string;
}

async function harness(mode: 'turn' | 'tcp' | 'none'): Promise<Outcome> {
  const cleanup = new Cleanup();
  try {
    const dir = mkdtempSync(join(tmpdir(), `amphi-turn-${mode}-`));
    cleanup.add('temp dir', () => rmSync(dir, { recursive: true, force: true }));
    const script = [
      'set -e',
      'ip link set lo up',
      'ip link add v0 type veth peer name v1',
      'ip addr add 10.205.0.1/24 dev v0',
      'ip link set v0 up',
      `exec "${process.execPath}" "${join(here, 'turn-netns-harness.ts')}" ${mode} "${dir}" 10.205.0.1 10.205.0.2`,
    ].join('\n');
    // A PID namespace whose first process dies with unshare (--kill-child): stopping it ends coturn,
    // the speaker and its namespace with it.
    const child = cleanup.child(
      'unshare and the harness',
      spawn('unshare', ['--net', '--pid', '--kill-child', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      exited(child).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), HARNESS_LIMIT_MS))),
    ]);
    clearTimeout(timer);
    assert.ok(inTime, `the ${mode} harness did not finish within ${HARNESS_LIMIT_MS} ms: ${stderr}`);
    assert.equal(child.exitCode, 0, `${mode} harness failed: ${stderr}`);
    const outcome = JSON.parse(stdout.trim().split('\n').pop()!) as Outcome;
    console.log(`# ${mode}: ${JSON.stringify({ ...outcome, stderr: undefined })}`);
    assert.equal(outcome.error, undefined, outcome.error);
    return outcome;
  } finally {
    await cleanup.run();
  }
}

const heard = (o: Outcome) => {
  assert.equal(o.connected, true, `${o.mode}: not connected: ${[o.waited, ...o.stderr].join(' | ')}`);
  assert.ok((o.samples ?? 0) >= 96_000, `${o.mode}: program samples ${o.samples}; ${o.waited}`);
  assert.ok((o.share440 ?? 0) > 0.8, `${o.mode}: 440 Hz share of the program ${o.share440}`);
  assert.ok((o.peak ?? 1) < 1, `${o.mode}: peak ${o.peak}`);
};

test('with UDP blocked, a speaker reaches the stage through TURN over TCP and is heard', { skip, timeout: 70_000 }, async () => {
  const o = await harness('turn');
  heard(o);
  assert.match(o.path ?? '', /^relay udp -> host udp 10\.205\.0\.1:410\d\d$/, 'the relay (inside the port range)');
  assert.ok(o.turnAllocations >= 1, 'coturn allocated a relay');
});

test('with UDP blocked, a speaker reaches the stage over ICE-TCP and is heard', { skip, timeout: 70_000 }, async () => {
  const o = await harness('tcp');
  heard(o);
  assert.match(o.path ?? '', /^host tcp -> \S+ tcp 10\.205\.0\.2:\d+$|^host tcp -> host tcp 10\.205\.0\.1:410\d\d$/);
});

test('with UDP blocked and neither TURN nor ICE-TCP, the same speaker does not connect', { skip, timeout: 70_000 }, async () => {
  const o = await harness('none');
  assert.equal(o.connected, false, `connected via ${o.path}`);
  assert.equal(o.exitCode, 1);
  assert.match(o.stderr.join('\n'), /amphi publish: failed: (no connection within 8 s|connection failed)/);
});
