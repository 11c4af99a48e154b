import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exited } from '../../bench/lib/teardown.ts';
import { toneShare } from '../../src/stage/audio.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { startLiveServer, type LiveServer } from '../helpers/server.ts';
import { concat, decodedProgram } from '../helpers/whip-client.ts';
import { toneWav } from '../helpers/wav.ts';

/**
 * `amphi publish` as a user runs it: a real process (bin/amphi.mjs) publishing into a live Space of a
 * real server, whose program is decoded here and checked by spectrum.
 */
const bin = new URL('../../bin/amphi.mjs', import.meta.url).pathname;
const TEST = { timeout: 60_000 };

interface Run {
  readonly child: ChildProcessWithoutNullStreams;
  readonly out: () => string;
  readonly err: () => string;
}

describe('amphi publish', { timeout: 240_000 }, () => {
  const suite = new Cleanup();
  let server: LiveServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'amphi-publish-'));
    suite.add('temp dir', () => rmSync(dir, { recursive: true, force: true }));
    server = suite.use('server', await startLiveServer({ stage: { port: 0 } }), (s) => s.shutdown());
  });
  after(() => suite.run());

  const run = (cleanup: Cleanup, args: string[], env: Record<string, string> = {}): Run => {
    const child = cleanup.child(
      'amphi publish',
      spawn(process.execPath, [bin, 'publish', ...args], { env: { ...process.env, ...env }, stdio: 'pipe' }),
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    return { child, out: () => out, err: () => err };
  };
  const exitCode = async (r: Run) => {
    await exited(r.child);
    return r.child.exitCode;
  };
  /** The program of a Space, decoded from now on. */
  const listen = (spaceId: string) => decodedProgram(server.stage, spaceId);

  test('a tone is heard in the program; SIGTERM ends the WHIP session and exits 0', TEST, async () => {
    const cleanup = new Cleanup();
    try {
      const { spaceId, host } = await server.liveSpace(0);
      const { whipUrl, token } = await server.stageToken(spaceId, host.token);
      const program = listen(spaceId);
      cleanup.add('listener', program.off);
      const r = run(cleanup, ['--url', whipUrl, '--token', token, '--tone', '440']);
      await eventually('connected', () => r.out().includes('connected to'), { timeoutMs: 15_000 }).catch(() => {
        throw new Error(`not connected: ${r.err()}`);
      });
      assert.match(r.out(), /via host udp -> host udp 127\.0\.0\.1:\d+; sending a 440 Hz tone/);
      const start = program.pcm.length;
      await eventually('2 s of program', () => program.pcm.length >= start + 100, { timeoutMs: 10_000 });
      const heard = concat(program.pcm.slice(start + 25));
      assert.ok(toneShare(heard, 440) > 0.8, `440 Hz share ${toneShare(heard, 440)}`);
      assert.equal(server.stage.sessionsOf(spaceId), 1);
      r.child.kill('SIGTERM');
      assert.equal(await exitCode(r), 0, r.err());
      assert.equal(server.stage.sessionsOf(spaceId), 0, 'the session was DELETEd before exit');
    } finally {
      await cleanup.run();
    }
  });

  test('a 44.1 kHz stereo WAV is resampled and heard; --duration ends it with 0', TEST, async () => {
    const cleanup = new Cleanup();
    try {
      const wav = join(dir, 'tone.wav');
      writeFileSync(wav, toneWav(660, 6, { rate: 44_100, channels: 2, amplitude: 0.4 }));
      const { spaceId, host } = await server.liveSpace(0);
      const { whipUrl, token } = await server.stageToken(spaceId, host.token);
      const program = listen(spaceId);
      cleanup.add('listener', program.off);
      const r = run(cleanup, ['--url', whipUrl, '--token', token, '--file', wav, '--duration', '3']);
      await eventually('connected', () => r.out().includes('connected to'), { timeoutMs: 15_000 });
      const start = program.pcm.length;
      await eventually('1.5 s of program', () => program.pcm.length >= start + 75, { timeoutMs: 10_000 });
      const heard = concat(program.pcm.slice(start + 25));
      assert.ok(toneShare(heard, 660) > 0.8, `660 Hz share ${toneShare(heard, 660)}`);
      assert.equal(await exitCode(r), 0, r.err());
      assert.equal(server.stage.sessionsOf(spaceId), 0);
    } finally {
      await cleanup.run();
    }
  });

  test('--api and --space with a handle and AMPHI_PASSWORD get the stage credential themselves', TEST, async () => {
    const cleanup = new Cleanup();
    try {
      const { spaceId } = await server.liveSpace(0);
      const handle = `pub_${Date.now() % 100_000}`;
      const account = await server.api('POST', '/api/accounts', undefined, { handle, password: 'a long test password' });
      const own = (await server.api('POST', '/api/spaces', account.json.token, { title: 'Mine' })).json.space.id as string;
      await server.api('POST', `/api/spaces/${own}/start`, account.json.token);
      assert.notEqual(own, spaceId);
      const r = run(cleanup, ['--api', server.url, '--space', own, '--handle', handle, '--duration', '1'], {
        AMPHI_PASSWORD: 'a long test password',
      });
      assert.equal(await exitCode(r), 0, r.err());
      assert.match(r.out(), new RegExp(`connected to ${server.stageUrl}/whip/${own}`));
      const wrong = run(cleanup, ['--api', server.url, '--space', spaceId, '--handle', handle, '--duration', '1'], {
        AMPHI_PASSWORD: 'a long test password',
      });
      assert.equal(await exitCode(wrong), 1);
      assert.match(wrong.err(), /^amphi publish: refused: 403 \S+: /m, 'not on the stage of someone else’s Space');
    } finally {
      await cleanup.run();
    }
  });

  test('a refused token, bad usage and an unreadable file each end with one clear line', TEST, async () => {
    const cleanup = new Cleanup();
    try {
      const { spaceId } = await server.liveSpace(0);
      const whipUrl = `${server.stageUrl}/whip/${spaceId}`;
      const refused = run(cleanup, ['--url', whipUrl, '--token', 'not-a-token', '--duration', '1']);
      assert.equal(await exitCode(refused), 1);
      assert.equal(refused.err().trim().split('\n').length, 1, refused.err());
      assert.match(refused.err(), /^amphi publish: refused: 401 STAGE_TOKEN_INVALID: /);
      const usage = run(cleanup, ['--url', whipUrl]);
      assert.equal(await exitCode(usage), 2);
      assert.match(usage.err(), /--url and --token go together/);
      const missing = run(cleanup, ['--url', whipUrl, '--token', 't', '--file', join(dir, 'nothing.wav')]);
      assert.equal(await exitCode(missing), 2);
      assert.match(missing.err(), /cannot read .*nothing\.wav: ENOENT/);
      const gone = run(cleanup, ['--url', 'http://127.0.0.1:1/whip/sp_AAAAAAAAAAAA', '--token', 't', '--duration', '1']);
      assert.equal(await exitCode(gone), 1);
      assert.match(gone.err(), /^amphi publish: failed: /);
    } finally {
      await cleanup.run();
    }
  });
});
