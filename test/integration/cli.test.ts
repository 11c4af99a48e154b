import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { bin, post, startAmphi, stop } from '../helpers/amphi-process.ts';
import { Cleanup } from '../helpers/cleanup.ts';

// Real processes: each test is bounded and stops what it started in `finally`, whatever happened.
describe('the amphi command', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'amphi-cli-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test(
    'serves on real sockets, shuts down cleanly on SIGTERM, and keeps everything across a restart',
    { timeout: 90_000 },
    async () => {
      const cleanup = new Cleanup();
      try {
        const first = await startAmphi(cleanup, ['--data-dir', dataDir]);
        assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.deepEqual(await (await fetch(`${first.url}/healthz`)).json(), { status: 'ok', storage: 'ok' });
        const account = await post(`${first.url}/api/accounts`, { handle: 'cli_host', password: 'a real password' });
        assert.equal(account.status, 201);
        const space = await post(`${first.url}/api/spaces`, { title: 'Survives restarts' }, account.json.token);
        assert.equal(space.status, 201);
        await post(`${first.url}/api/spaces/${space.json.space.id}/start`, {}, account.json.token);
        const client = 'cli-listener-secret-0001';
        const joined = await post(`${first.url}/api/spaces/${space.json.space.id}/join`, { client });
        assert.equal(joined.status, 200);
        assert.ok(
          first.logs.some((l) => l.msg === 'space live' && l.plane === 'control'),
          'structured lifecycle logs',
        );
        assert.equal(await stop(first, 'SIGTERM'), 0);
        assert.ok(first.logs.some((l) => l.msg === 'amphi stopped'));

        const second = await startAmphi(cleanup, ['--data-dir', dataDir]);
        const me = await fetch(`${second.url}/api/me`, { headers: { authorization: `Bearer ${account.json.token}` } });
        assert.equal(me.status, 200, 'the session survived the restart');
        const view = (await (await fetch(`${second.url}/api/spaces/${space.json.space.id}`)).json()) as {
          space: { state: string };
        };
        assert.equal(view.space.state, 'live');
        const renewed = await post(`${second.url}/api/spaces/${space.json.space.id}/join`, { token: joined.json.token, client });
        assert.equal(renewed.status, 200, 'listener tokens verify after a restart: the signing key is kept');
        assert.equal(await stop(second, 'SIGINT'), 0);
      } finally {
        await cleanup.run(); // whatever is still running (after a failed step) is stopped
      }
    },
  );

  test('PORT and AMPHI_DATA_DIR from the environment; flags win over them', { timeout: 60_000 }, async () => {
    const cleanup = new Cleanup();
    try {
      const running = await startAmphi(cleanup, ['--host', '127.0.0.1'], { AMPHI_DATA_DIR: dataDir, PORT: '1' });
      assert.notEqual(new URL(running.url).port, '1', '--port 0 (a flag) beats PORT');
      assert.ok(running.logs.some((l) => l.dataDir === dataDir));
    } finally {
      await cleanup.run();
    }
  });

  test('bad flags, config and commands exit 2 with a message that says what to fix', { timeout: 120_000 }, () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
    const badPort = run('start', '--port', 'eighty');
    assert.equal(badPort.status, 2);
    assert.match(badPort.stderr, /server\.port must be a whole number from 0 to 65535; got "eighty" \(from flag --port\)/);
    const unknown = run('start', '--prot', '80');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /Unknown option '--prot'/);
    const missing = run('start', '--config', '/nonexistent/amphi.yaml');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read config file/);
    const command = run('launch');
    assert.equal(command.status, 2);
    assert.match(command.stderr, /unknown command "launch"/);
    const media = run('media');
    assert.equal(media.status, 2, 'amphi media without a cluster is a configuration error');
    assert.match(media.stderr, /amphi media needs REDIS_URL/);
    const help = run('--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: amphi/);
    const config = run('config', '--port', '9123');
    assert.equal(config.status, 0);
    assert.equal((JSON.parse(config.stdout) as { server: { port: number } }).server.port, 9123);
  });
});
