import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { exited } from '../../bench/lib/teardown.ts';
import { call, post, type Json } from '../helpers/amphi-process.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { ffmpegDecode } from '../helpers/ffmpeg.ts';
import { freePort } from '../helpers/ports.ts';
import { hasCommands, skipUnless } from '../helpers/skip.ts';
import { toneProfile, toneSeconds } from '../helpers/tone.ts';

/**
 * The production install as docs/deploy.md gives it, on a fresh clone of this repository's HEAD:
 * `npm ci --omit=dev` (no dev tools: the web app is built at install), then Amphi started as the
 * systemd unit starts it, on the shipped production config. The app is served, the demo is off, and a Space published
 * with that install's own `npx amphi publish` is heard by ffmpeg through the listener URLs. It
 * installs from the npm registry (its cache makes it quick after `npm ci`), so it runs where
 * AMPHI_TEST_INSTALL=1 (CI) and is skipped with a notice elsewhere.
 */
const skip = skipUnless({
  available: process.env.AMPHI_TEST_INSTALL === '1' && hasCommands('git', 'npm', 'ffmpeg'),
  env: 'AMPHI_TEST_INSTALL',
  suite: 'production install test',
  install: 'git, npm and ffmpeg, and set AMPHI_TEST_INSTALL=1',
});
const repo = new URL('../..', import.meta.url).pathname;

/**
 * `npx` runs the command as its own child: the whole process group is stopped at cleanup (SIGTERM,
 * SIGKILL after 5 s), so no server outlives a failed test.
 */
function group<C extends ChildProcess>(cleanup: Cleanup, what: string, child: C): C {
  cleanup.add(what, async () => {
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, name);
      } catch {
        // The group has ended.
      }
    };
    signal('SIGTERM');
    const done = exited(child);
    const timer = setTimeout(() => signal('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
    signal('SIGKILL'); // any grandchild that outlived npx
  });
  return child;
}

/**
 * The environment of an operator's shell, not of `npm test`: npm exports its settings (`npm_config_*`,
 * among them `loglevel`) and puts this checkout's `node_modules/.bin` (its Node 24) first on PATH, so
 * an inner npm would be quiet and engine-satisfied whatever the clone's own files say. Without them
 * the clone's npm runs on the machine's Node, reading only the clone's `.npmrc`.
 */
function operatorEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key) && key !== 'INIT_CWD') env[key] = value;
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((dir) => !dir.includes('node_modules'))
    .join(':');
  return { ...env, ...extra };
}

/** Runs a command to its end, bounded by the test's timeout (cleanup stops it otherwise). */
async function run(cleanup: Cleanup, command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const child = cleanup.child(command, spawn(command, args, { cwd, env: operatorEnv(env) }));
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  await exited(child);
  return { code: child.exitCode, output };
}

/**
 * Amphi started as `deploy/systemd/amphi.service` starts it: the install's own Node, `bin/amphi.mjs
 * start --config` the shipped production config, NODE_ENV=production. What the guide says to change
 * for a machine (its name, public address and ports, the data directory) comes from the environment,
 * as `/etc/amphi/amphi.env` would give it; resolved once it logs "amphi listening" (rejected if it
 * exits first).
 */
async function start(
  cleanup: Cleanup,
  cwd: string,
  dataDir: string,
): Promise<{ child: ChildProcessWithoutNullStreams; url: string; logs: Json[] }> {
  const [port, stagePort] = [await freePort(), await freePort()];
  const machine = {
    AMPHI_SERVER_PORT: String(port),
    AMPHI_SERVER_PUBLIC_URL: `http://127.0.0.1:${port}`,
    AMPHI_STAGE_PORT: String(stagePort),
    AMPHI_STAGE_PUBLIC_URL: `http://127.0.0.1:${stagePort}`,
    AMPHI_STAGE_ICE_ADDRESSES: '127.0.0.1',
    AMPHI_DATA_DIR: dataDir,
    // Plain http on loopback: browsers would drop a Secure cookie, so the config's https rule is eased.
    AMPHI_AUTH_SECURE_COOKIES: 'false',
  };
  const child = group(
    cleanup,
    'production amphi',
    spawn(
      join(cwd, 'node_modules/.bin/node'),
      [join(cwd, 'bin/amphi.mjs'), 'start', '--config', join(cwd, 'deploy/amphi.production.yaml')],
      {
        cwd: dataDir,
        env: { ...process.env, NODE_ENV: 'production', ...machine },
        detached: true,
      },
    ),
  );
  const logs: Json[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`amphi exited with ${code} before listening: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        logs.push(JSON.parse(line) as Json);
      } catch {
        logs.push({ msg: 'not JSON', line });
      }
      if (logs.at(-1)!.msg === 'amphi listening') resolve({ child, url: String(logs.at(-1)!.url), logs });
    });
  });
}

test(
  'a fresh clone installed with npm ci --omit=dev serves the app, and a Space published with amphi publish is heard',
  { skip, timeout: 600_000 },
  async () => {
    const cleanup = new Cleanup();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'amphi-install-'));
      cleanup.add('install dir', () => rmSync(dir, { recursive: true, force: true }));
      const clone = join(dir, 'amphi');
      const cloned = await run(cleanup, 'git', ['clone', '-q', repo, clone], dir);
      assert.equal(cloned.code, 0, cloned.output);

      const installed = await run(cleanup, 'npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], clone);
      assert.equal(installed.code, 0, installed.output);
      assert.doesNotMatch(installed.output, /EBADENGINE|npm warn|not found|ERR!/i, 'a quiet install');
      assert.ok(existsSync(join(clone, 'web/dist/index.html')), 'the web app is built at install');
      assert.ok(!existsSync(join(clone, 'node_modules/typescript')), 'dev tools are not installed');
      // npx reads the project's .npmrc too: no engine warnings on the machine's own Node.
      const help = await run(cleanup, 'npx', ['amphi', '--help'], clone);
      assert.equal(help.code, 0, help.output);
      assert.match(help.output, /^Usage: amphi/);
      assert.doesNotMatch(help.output, /EBADENGINE|npm warn/i, 'a quiet npx amphi');

      const data = join(dir, 'data');
      mkdirSync(data);
      const server = await start(cleanup, clone, data);
      const page = await fetch(`${server.url}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<script type="module"/);
      assert.ok(!server.logs.some((l) => l.msg === 'demo Space live'), 'the demo is off in production');

      const account = await post(`${server.url}/api/accounts`, { handle: 'prod_host', password: 'a real password' });
      assert.equal(account.status, 201);
      const token = String(account.json.token);
      const space = await post(`${server.url}/api/spaces`, { title: 'Production' }, token);
      const spaceId = String(space.json.space.id);
      assert.equal((await post(`${server.url}/api/spaces/${spaceId}/start`, {}, token)).status, 200);

      const speaker = group(
        cleanup,
        'amphi publish',
        spawn('npx', ['amphi', 'publish', '--api', server.url, '--space', spaceId, '--tone', '440', '--duration', '40'], {
          cwd: clone,
          env: operatorEnv({ AMPHI_SESSION_TOKEN: token }),
          detached: true,
        }),
      );
      let said = '';
      speaker.stderr.on('data', (d: Buffer) => (said += d.toString()));
      await new Promise<void>((resolve, reject) => {
        speaker.stdout.on('data', (d: Buffer) => {
          said += d.toString();
          if (said.includes('connected')) resolve();
        });
        speaker.once('exit', (code) => reject(new Error(`amphi publish exited with ${code}: ${said}`)));
      });

      // The production door reads the machine's real load: on a busy machine the listener may be given a
      // place in line first, and follows it as the web app does (a minute at most).
      const joinUrl = `${server.url}/api/spaces/${spaceId}/join`;
      let joined = await post(joinUrl, { client: 'production-install-listener' });
      if (joined.status === 202) {
        const place = joined.json;
        await eventually(
          'the place in line to come up',
          async () => (await call('GET', `${server.url}${place.lineUrl}`)).json.nowServing >= place.number,
          {
            timeoutMs: 60_000,
            intervalMs: 500,
          },
        );
        joined = await post(joinUrl, { ticket: place.ticket, client: 'production-install-listener' });
      }
      assert.equal(joined.status, 200, JSON.stringify(joined.json));
      // A live HLS player starts HOLD-BACK (3 target durations, 6 s) behind the edge: its first
      // seconds may be the silence from before the speaker connected (6.5 s of it seen on a loaded machine).
      const { pcm, code, stderr } = await ffmpegDecode(String(joined.json.playlistUrl), 18);
      assert.equal(code, 0, stderr);
      const heard = toneSeconds(pcm);
      assert.ok(heard >= 8, `ffmpeg heard ${heard} s of 440 Hz in 18 s: ${toneProfile(pcm)}`);
    } finally {
      await cleanup.run();
    }
  },
);
