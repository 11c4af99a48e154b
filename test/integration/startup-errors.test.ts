import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { exited } from '../../bench/lib/teardown.ts';
import { bin, quietDataDir, startAmphi, stop } from '../helpers/amphi-process.ts';
import { Cleanup } from '../helpers/cleanup.ts';

/** Runs `amphi start` to its end (it must fail); bounded. Returns its exit code and stderr. */
async function failedStart(cleanup: Cleanup, args: string[], env: Record<string, string> = {}) {
  const child = cleanup.child(
    'failing amphi start',
    spawn(process.execPath, [bin, 'start', ...args], { env: { ...process.env, AMPHI_LOG_LEVEL: 'warn', ...env } }),
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  await exited(child); // bounded by the test's timeout; cleanup stops a child that hangs
  return { code: child.exitCode, stderr };
}

/** One line, prefixed, with no stack trace. */
function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
  assert.match(lines[0]!, /^amphi: /);
  assert.match(lines[0]!, pattern);
}

async function listening(cleanup: Cleanup): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add('port holder', () => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

describe('start-up failures: one line each, with what to do', () => {
  test('a port in use names the port and the setting that moves it', { timeout: 60_000 }, async () => {
    const cleanup = new Cleanup();
    try {
      const taken = await listening(cleanup);
      const { args } = quietDataDir(cleanup, 'port');
      const api = await failedStart(cleanup, [...args, '--port', String(taken), '--stage-port', '0']);
      assert.equal(api.code, 1);
      assertOneLine(api.stderr, new RegExp(`127\\.0\\.0\\.1:${taken}: the port is in use.*--port \\(AMPHI_SERVER_PORT\\)`));
      const stage = await failedStart(cleanup, [...args, '--port', '0', '--stage-port', String(taken)]);
      assertOneLine(stage.stderr, /the port is in use.*--stage-port \(AMPHI_STAGE_PORT\)/);
    } finally {
      await cleanup.run();
    }
  });

  test('a data directory that cannot be one, and an unreachable database', { timeout: 60_000 }, async () => {
    const cleanup = new Cleanup();
    try {
      const { dir } = quietDataDir(cleanup, 'bad-dir');
      const file = join(dir, 'a-file');
      writeFileSync(file, 'not a directory');
      const bad = await failedStart(cleanup, ['--data-dir', join(file, 'data'), '--port', '0', '--stage-port', '0']);
      assert.equal(bad.code, 1);
      assertOneLine(bad.stderr, /cannot use the data directory .*a file is in the way.*--data-dir \(AMPHI_DATA_DIR\)/);

      const closed = await listening(cleanup);
      await cleanup.run(); // the port is free again: nothing listens there now
      const db = await failedStart(cleanup, ['--data-dir', join(dir, 'db'), '--port', '0', '--stage-port', '0'], {
        DATABASE_URL: `postgres://amphi:secret-pw@127.0.0.1:${closed}/amphi`,
      });
      assert.equal(db.code, 1);
      assertOneLine(
        db.stderr,
        /cannot reach the database at postgres:\/\/amphi:redacted@127\.0\.0\.1:\d+\/amphi: nothing is listening/,
      );
      assert.doesNotMatch(db.stderr, /secret-pw/);
    } finally {
      await cleanup.run();
    }
  });

  test(
    "a second Amphi on a running one's data directory stops before touching it; after kill -9 the lock is free",
    { timeout: 90_000 },
    async () => {
      const cleanup = new Cleanup();
      try {
        const { dir, args } = quietDataDir(cleanup, 'second');
        const first = await startAmphi(cleanup, args);
        const pid = readFileSync(join(dir, 'amphi.pid'), 'utf8').trim();
        assert.equal(pid, String(first.child.pid));
        const second = await failedStart(cleanup, [...args, '--port', '0', '--stage-port', '0']);
        assert.equal(second.code, 1);
        assertOneLine(second.stderr, new RegExp(`another Amphi \\(pid ${pid}\\) is running with the data directory`));
        assert.equal(readFileSync(join(dir, 'amphi.pid'), 'utf8').trim(), pid, "the pid file is the first one's");
        assert.equal((await fetch(`${first.url}/healthz`)).status, 200, 'the first one serves on');

        first.child.kill('SIGKILL');
        await exited(first.child);
        const third = await startAmphi(cleanup, args);
        assert.equal(
          readFileSync(join(dir, 'amphi.pid'), 'utf8').trim(),
          String(third.child.pid),
          'a crash leaves no stale lock',
        );
        assert.equal(await stop(third, 'SIGTERM'), 0);
      } finally {
        await cleanup.run();
      }
    },
  );
});
