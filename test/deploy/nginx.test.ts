import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { toneShare } from '../../src/stage/audio.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { ffmpegDecode } from '../helpers/ffmpeg.ts';
import { freePort } from '../helpers/ports.ts';
import { startLiveServer, type LiveServer } from '../helpers/server.ts';
import { hasCommands, optionalSuite, skipUnless } from '../helpers/skip.ts';
import { streamHead } from '../helpers/stream-head.ts';
import { publishTone, type TonePublisher } from '../helpers/whip-client.ts';

/**
 * deploy/nginx/amphi-edge.conf with Debian's nginx in front of Amphi, on loopback: same token
 * semantics, a cache keyed without the token, one upstream request per object. CI installs nginx and
 * sets AMPHI_TEST_NGINX=1; without nginx the suite is skipped with a notice.
 */
const skip = skipUnless({
  available: hasCommands('nginx', 'ffmpeg'),
  env: 'AMPHI_TEST_NGINX',
  suite: 'nginx edge tests',
  install: 'nginx and ffmpeg',
});

/** Real processes and sockets: every test and hook is bounded (a suite's timeout does not cover its hooks). */
const HOOK = { timeout: 60_000 };
const TEST = { timeout: 90_000 };

optionalSuite('nginx as a drop-in edge cache', { skip, timeout: 300_000 }, () => {
  /** What `before` started, closed in `after` even if it stopped half-way. */
  const cleanup = new Cleanup();
  let server: LiveServer;
  let nginxUrl: string;
  let prefix: string;
  let pub: TonePublisher;
  let spaceId: string;

  before(async () => {
    server = cleanup.use('server', await startLiveServer(), (s) => s.shutdown()); // the machine's load is not under test
    prefix = mkdtempSync(join(tmpdir(), 'amphi-nginx-'));
    cleanup.add('nginx prefix', () => rmSync(prefix, { recursive: true, force: true }));
    chmodSync(prefix, 0o755); // nginx's workers (user nobody when started as root) write the cache here
    mkdirSync(join(prefix, 'cache'));
    const port = await freePort();
    nginxUrl = `http://127.0.0.1:${port}`;
    const conf = readFileSync(new URL('../../deploy/nginx/amphi-edge.conf', import.meta.url), 'utf8')
      .replaceAll('@PREFIX@', prefix)
      .replaceAll('@LISTEN@', `127.0.0.1:${port}`)
      .replaceAll('@UPSTREAM@', new URL(server.url).host);
    writeFileSync(join(prefix, 'nginx.conf'), conf);
    cleanup.child('nginx', spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: 'ignore' }));
    await eventually('nginx to answer', () => fetch(`${nginxUrl}/`).then((r) => r.arrayBuffer()), { intervalMs: 50 });
    const live = await server.liveSpace(0);
    spaceId = live.spaceId;
    const stage = await server.stageToken(spaceId, live.host.token);
    pub = cleanup.use('tone publisher', await publishTone({ ...stage, frequencyHz: 440 }), (p) => p.close());
    await pub.connected();
  }, HOOK);
  after(() => cleanup.run(), HOOK);

  const listenerToken = async () => {
    const join = await server.api('POST', `/api/spaces/${spaceId}/join`);
    assert.equal(join.status, 200, `a join answered with a token: ${JSON.stringify(join.json)}`);
    return (join.json as { token: string }).token;
  };

  test('ffmpeg plays through nginx for 10 s: the dominant tone is 440 Hz', TEST, async () => {
    const token = await listenerToken();
    const url = `${nginxUrl}/l/${token}/${spaceId}/index.m3u8`;
    // ffmpeg is not an LL-HLS player: it starts from whole segments, so give it two.
    await eventually(
      'the playlist through nginx to list segment s1',
      async () => /s1\.m4s/.test(await (await fetch(`${nginxUrl}/l/${token}/${spaceId}/media.m3u8`)).text()),
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    const { pcm, code, stderr } = await ffmpegDecode(url, 10);
    assert.equal(code, 0, stderr);
    assert.ok(pcm.length >= 9.5 * 48_000, `decoded ${pcm.length / 48_000} s`);
    assert.ok(toneShare(pcm, 440) > 0.9, `440 Hz share ${toneShare(pcm, 440)}`);
  });

  test(
    '200 listeners asking nginx for the same new part cause exactly one request to Amphi; bad tokens are refused',
    TEST,
    async () => {
      const tokens = await Promise.all(Array.from({ length: 200 }, () => listenerToken()));
      const playlist = await (await fetch(`${nginxUrl}/l/${tokens[0]!}/${spaceId}/media.m3u8`)).text();
      const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="(p\d+\.\d+\.m4s)"/.exec(playlist)![1]!;
      const before = server.edge.served;
      const responses = await Promise.all(tokens.map((t) => fetch(`${nginxUrl}/l/${t}/${spaceId}/${hint}`)));
      assert.ok(responses.every((r) => r.status === 200));
      const bodies = await Promise.all(responses.map((r) => r.arrayBuffer()));
      assert.ok(bodies.every((b) => b.byteLength === bodies[0]!.byteLength && b.byteLength > 0));
      assert.equal(server.edge.served - before, 1, 'nginx collapsed 200 requests (held until the part existed) into one');
      const hit = await fetch(`${nginxUrl}/l/${tokens[1]!}/${spaceId}/${hint}`);
      assert.equal(hit.headers.get('x-cache'), 'HIT');
      const forged = await fetch(`${nginxUrl}/l/${tokens[0]!}x/${spaceId}/${hint}`);
      assert.equal(forged.status, 401, 'a cached object is still refused to a bad token');
    },
  );

  test('the live stream passes through (auth checked, not cached); the line is cached a second', TEST, async () => {
    const token = await listenerToken();
    const head = await streamHead(`${nginxUrl}/l/${token}/${spaceId}/live.mp4`);
    assert.equal(head.status, 200);
    assert.equal(head.headers['x-cache'], undefined, 'the stream location, not the caching one');
    assert.equal(head.first.subarray(4, 8).toString('latin1'), 'ftyp');
    assert.equal((await fetch(`${nginxUrl}/l/${token}x/${spaceId}/live.mp4`)).status, 401);
    const first = await fetch(`${nginxUrl}/api/spaces/${spaceId}/line`);
    assert.equal(first.status, 200);
    const second = await fetch(`${nginxUrl}/api/spaces/${spaceId}/line`);
    assert.equal(second.headers.get('x-cache'), 'HIT');
    assert.deepEqual(await second.json(), await first.json());
  });
});
