import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { exited } from '../../bench/lib/teardown.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { hasCommands, skipUnless } from '../helpers/skip.ts';

/**
 * Acceptance: a real third-party WHIP client, Debian's `simple-whip-client` (GStreamer webrtcbin and
 * libnice), publishes a 440 Hz tone into a live Space, and the decoded program contains 440 Hz by
 * spectrum. It runs in a network namespace of its own (a veth pair; libnice ignores loopback), so
 * no packet can leave the machine. CI installs the client and sets AMPHI_TEST_WHIP_CLIENT=1; without
 * it, and without the client, the test is skipped with a notice.
 */
const here = new URL('.', import.meta.url).pathname;
const skip = skipUnless({
  available: hasCommands('whip-client', 'unshare', 'ip', 'cc'),
  env: 'AMPHI_TEST_WHIP_CLIENT',
  suite: 'whip-client test',
  install: 'simple-whip-client',
});

/** How long the harness may take: it waits 8 s for the connection and 5 s more for the program. */
const HARNESS_LIMIT_MS = 45_000;

test('Debian whip-client publishes 440 Hz; the program contains 440 Hz', { skip, timeout: 60_000 }, async () => {
  const cleanup = new Cleanup();
  try {
    const dir = mkdtempSync(join(tmpdir(), 'amphi-whip-'));
    cleanup.add('temp dir', () => rmSync(dir, { recursive: true, force: true }));
    const cc = spawnSync('cc', ['-shared', '-fPIC', '-o', join(dir, 'libgupnp-igd-1.0.so.4'), join(here, 'gupnp-igd-stub.c')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(cc.status, 0, cc.stderr);
    const script = [
      'set -e',
      'ip link set lo up',
      'ip link add v0 type veth peer name v1',
      'ip addr add 10.203.0.1/24 dev v0',
      'ip addr add 10.203.0.2/24 dev v1',
      'ip link set v0 up',
      'ip link set v1 up',
      `exec "${process.execPath}" "${join(here, 'whip-client-harness.ts')}" "${dir}" 10.203.0.1`,
    ].join('\n');
    // Never spawnSync here: it blocks the event loop, so no test timeout could end a hung harness.
    // A PID namespace of its own, whose first process dies when unshare does (--kill-child), takes
    // whip-client down with it: stopping unshare ends everything the harness started.
    const harness = cleanup.child(
      'unshare and the harness',
      spawn('unshare', ['--net', '--pid', '--kill-child', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    let stdout = '';
    let stderr = '';
    harness.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    harness.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      exited(harness).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), HARNESS_LIMIT_MS))),
    ]);
    clearTimeout(timer);
    assert.ok(inTime, `the harness did not finish within ${HARNESS_LIMIT_MS} ms: ${stderr}`);
    assert.equal(harness.exitCode, 0, `harness failed: ${stderr}`);
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
      connected: boolean;
      samples: number;
      share440: number;
      share660: number;
      peak: number;
      hostSpeaking: boolean;
      log: string[];
      /** A wait in the harness that ran out. */
      waited?: string;
    };
    assert.equal(result.connected, true, [result.waited, ...result.log].join('\n'));
    assert.ok(result.samples >= 48_000, `program samples ${result.samples}; ${result.waited}`);
    assert.ok(result.share440 > 0.8, `440 Hz share of the program ${result.share440}`);
    assert.ok(result.share660 < 0.01, `no 660 Hz: ${result.share660}`);
    assert.ok(result.peak < 1, `peak ${result.peak}`);
    assert.equal(result.hostSpeaking, true, 'the speaking indicator is on');
  } finally {
    await cleanup.run();
  }
});
