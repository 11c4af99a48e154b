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
 * Acceptance: a real third-party WHIP client, Debian's `simple-whip-client` (GStreamer webrtcbin and
 * libnice), run as docs/networks.md says (deploy/whip-client/whip-client-debian12.sh, which builds
 * its libgupnp-igd stand-in into the temp dir given as XDG_CACHE_HOME), publishes a 440 Hz tone into
 * a live Space, and the decoded program contains 440 Hz by spectrum. It runs in a network namespace
 * of its own (a veth pair; libnice ignores loopback), so no packet can leave the machine. CI installs the client and sets AMPHI_TEST_WHIP_CLIENT=1; without
 * it, and without the client, the test is skipped with a notice.
 */
const here = new URL('.', import.meta.url).pathname;
const skip = skipUnless({
  available: hasCommands('whip-client', 'unshare', 'ip', 'cc'),
  env: 'AMPHI_TEST_WHIP_CLIENT',
  suite: 'whip-client test',
  install: 'simple-whip-client',
});

/** The documented way to run Debian 12's whip-client (docs/networks.md). */
const WRAPPER = new URL('../../deploy/whip-client/whip-client-debian12.sh', import.meta.url).pathname;

/** How long the harness may take: it waits 8 s for the connection and 5 s more for the program. */
const HARNESS_LIMIT_MS = 45_000;

test('Debian whip-client publishes 440 Hz; the program contains 440 Hz', { skip, timeout: 60_000 }, async () => {
  const cleanup = new Cleanup();
  try {
    const dir = mkdtempSync(join(tmpdir(), 'amphi-whip-'));
    cleanup.add('temp dir', () => rmSync(dir, { recursive: true, force: true }));
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

/** Runs `command` with whip-client's arguments toward a closed port; its exit code and output. */
async function runToClosedPort(command: string, env: NodeJS.ProcessEnv) {
  const pipeline = 'audiotestsrc is-live=true ! audioconvert ! opusenc ! rtpopuspay pt=100 ! application/x-rtp,payload=100';
  const child = spawn(command, ['-u', 'http://127.0.0.1:9/whip/sp_x', '-t', 'x', '-A', pipeline], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  // 'close', not 'exit': the output is read to its end.
  await new Promise((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  return { code: child.exitCode, signal: child.signalCode, output };
}

test(
  "why the docs' wrapper exists: Debian 12's whip-client aborts on its own (libsoup2 and libsoup3), not through the wrapper",
  { skip, timeout: 40_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amphi-whip-'));
    try {
      const stock = await runToClosedPort('whip-client', process.env);
      // GLib's g_error traps: a shell reports it as exit 133 (128 + SIGTRAP).
      assert.equal(
        stock.signal,
        'SIGTRAP',
        `the packaged client aborts (if not, Debian fixed it: update docs/networks.md): ${stock.output}`,
      );
      assert.match(stock.output, /libsoup2 symbols detected/);
      const wrapped = await runToClosedPort(WRAPPER, { ...process.env, XDG_CACHE_HOME: dir });
      assert.doesNotMatch(wrapped.output, /libsoup2 symbols detected/);
      assert.equal(
        wrapped.code,
        0,
        `through the wrapper it runs, fails to reach the closed port and says goodbye: ${wrapped.output}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
