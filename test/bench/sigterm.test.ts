/**
 * Every bench stops on SIGTERM within 5 s and leaves no process behind (issue 21, item 4).
 *
 * Each case spawns `node bench/main.ts <command> <short options>` in a process group of its own, with
 * a marker in its environment (AMPHI_BENCH_MARK=<random>) that every process it starts inherits. Once
 * the bench has really started (its line saying so, printed after its server listens), the bench
 * alone gets SIGTERM, as `timeout` or systemd would send it: the bench must end its servers, peers and
 * load generators itself. It must exit within 5 s with 143 (128 + SIGTERM: bench/lib/teardown.ts),
 * and by then no process may carry the marker nor remain in its group. Whatever is left is killed in
 * a `finally`. Benches that need outside peers (nginx and wrk, Redis, PostgreSQL, Ceph) run where CI
 * installs them, under the same flags as the other suites.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { marked, stopsOnSignal, type Case } from '../helpers/bench-signal.ts';
import { clusterSkip } from '../helpers/cluster.ts';
import { hasCommands, skipUnless } from '../helpers/skip.ts';

const main = fileURLToPath(new URL('../../bench/main.ts', import.meta.url));

const nginxSkip = skipUnless({
  available: hasCommands('nginx', 'wrk', 'taskset'),
  env: 'AMPHI_TEST_NGINX',
  suite: 'the edge bench SIGTERM case',
  install: 'nginx and wrk',
});

const cases: readonly Case[] = [
  { command: 'listeners', args: ['--listeners', '20', '--seconds', '5'], ready: /^listener bench:/m, readyWithinMs: 30_000 },
  // Once its listeners hold live.mp4: Amphi's polite shutdown would wait on those very connections.
  {
    command: 'joins',
    args: ['--capacity', '20', '--seconds', '4', '--listeners', '10'],
    ready: /listeners admitted in/,
    readyWithinMs: 30_000,
  },
  {
    command: 'joins',
    args: ['--capacity', '20', '--seconds', '4', '--listeners', '10'],
    ready: /listeners admitted in/,
    readyWithinMs: 30_000,
    signal: 'SIGINT',
  },
  { command: 'flood', args: ['--listeners', '10', '--seconds', '4'], ready: /^flood drill:/m, readyWithinMs: 30_000 },
  { command: 'join', args: ['--seconds', '2', '--connections', '4'], ready: /^POST \/join,/m, readyWithinMs: 30_000 },
  { command: 'stage', args: ['--spaces', '1', '--seconds', '4'], ready: /Spaces publishing/, readyWithinMs: 40_000 },
  {
    command: 'edge',
    args: ['--seconds', '2', '--connections', '4'],
    ready: /^edge bench:/m,
    readyWithinMs: 30_000,
    skip: nginxSkip,
  },
  {
    command: 'cluster',
    args: ['--control', '1', '--edges', '1'],
    ready: /^Amphi cluster up\./m,
    readyWithinMs: 90_000,
    skip: clusterSkip,
  },
  {
    command: 'cluster-join',
    args: ['--seconds', '2', '--connections', '4'],
    ready: /^embedded /m, // its first measured run: Amphi listens, autocannon drives it
    readyWithinMs: 40_000,
    skip: clusterSkip,
  },
  // The launch night's cases run alone, as a drill: test/drills/launch-night-sigterm.drill.ts.
];

describe('each bench stops on a signal within 5 s and leaves no process behind', { concurrency: 1 }, () => {
  for (const c of cases) {
    test(
      `${c.command} ${c.args.join(' ')} (${c.signal ?? 'SIGTERM'}${c.label === undefined ? '' : `, ${c.label}`})`,
      { skip: c.skip ?? false, timeout: c.readyWithinMs + 15_000 },
      () => stopsOnSignal(c),
    );
  }

  test('plan starts nothing and ends by itself', { timeout: 15_000 }, async () => {
    const mark = randomBytes(8).toString('hex');
    const child = spawn(process.execPath, [main, 'plan', '--listeners', '1000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AMPHI_BENCH_MARK: mark },
    });
    try {
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 0);
      assert.deepEqual(marked(mark), []);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
