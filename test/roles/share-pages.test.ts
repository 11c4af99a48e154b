import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually, realTime } from '../helpers/eventually.ts';
import { startLiveServer, type LiveServer } from '../helpers/server.ts';
import { optionalSuite, skipUnless } from '../helpers/skip.ts';
import { publishTone } from '../helpers/whip-client.ts';

/**
 * The pages a shared link names, as a live server serves them: the built index.html with the head of
 * the replay (`/r/:id`) or the clip (`/c/:id`) it names (src/roles/web.ts puts in what
 * src/control/http/share.ts writes). What a crawler reads of a link, without running any script:
 * Open Graph (title, image, audio), the Twitter card and, for a replay, the oEmbed discovery link.
 */
const skip = skipUnless({
  available: existsSync(new URL('../../web/dist/index.html', import.meta.url)),
  env: 'AMPHI_TEST_BROWSER',
  suite: 'shared replay and clip pages',
  install: 'the built web app (npm run build; npm test builds it first)',
});

/** Real sockets and real media: the suite and each hook (a suite's timeout does not cover its hooks) are bounded. */
const HOOK = { timeout: 60_000 };

/** The content of a page's `<meta property|name="…">`, as written (attribute-escaped). */
const metaIn = (html: string, key: string) => new RegExp(`<meta (?:property|name)="${key}" content="([^"]*)" />`).exec(html)?.[1];

optionalSuite('a replay and a clip shared: their served pages preview them', { skip, timeout: 120_000 }, () => {
  const cleanup = new Cleanup();
  let server: LiveServer;
  let spaceId: string;
  let clipId: string;

  /** The page as a crawler gets it: served as HTML, with the shared head in place of the plain title. */
  const page = async (path: string) => {
    const res = await fetch(`${server.url}${path}`);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8', path);
    const html = await res.text();
    assert.ok(!html.includes('<title>Amphi</title>'), `${path}: the shared head replaces the plain title`);
    return html;
  };

  before(async () => {
    server = cleanup.use('server', await startLiveServer(), (s) => s.shutdown()); // the machine's load is not under test
    const live = await server.liveSpace(0);
    spaceId = live.spaceId;
    const tone = await publishTone({ ...(await server.stageToken(spaceId, live.host.token)), frequencyHz: 440, amplitude: 0.5 });
    cleanup.add('tone', () => tone.close());
    await tone.connected();
    await realTime(6000, 'a little to record');
    const clip = await server.api('POST', `/api/spaces/${spaceId}/clips`, live.host.token, { last: 5 });
    assert.equal(clip.status, 201, JSON.stringify(clip.json));
    clipId = clip.json.clip.id as string;
    assert.equal((await server.api('POST', `/api/spaces/${spaceId}/end`, live.host.token)).status, 200);
    await eventually(
      'the replay',
      async () => (await server.api('GET', `/api/spaces/${spaceId}`)).json.space.replay.available === true,
      { timeoutMs: 15_000 },
    );
  }, HOOK);
  after(() => cleanup.run(), HOOK);

  test('/r/:id: og:title, og:image, og:audio (the replay file), the Twitter card and the oEmbed discovery link', async () => {
    const html = await page(`/r/${spaceId}`);
    assert.match(html, /<title>Stage test · Amphi<\/title>/);
    assert.equal(metaIn(html, 'og:title'), 'Stage test');
    assert.equal(metaIn(html, 'og:url'), `${server.url}/r/${spaceId}`);
    assert.equal(metaIn(html, 'og:image'), `${server.url}/og.png`);
    assert.equal(metaIn(html, 'og:audio'), `${server.url}/api/spaces/${spaceId}/recording.m4a`);
    assert.equal(metaIn(html, 'twitter:card'), 'summary_large_image');
    const audio = await fetch(metaIn(html, 'og:audio')!);
    await audio.body?.cancel();
    assert.equal(audio.status, 200, 'og:audio names the replay file');

    const discovery = /<link rel="alternate" type="application\/json\+oembed" href="([^"]+)" title="Stage test" \/>/.exec(
      html,
    )?.[1];
    assert.ok(discovery !== undefined, 'an oEmbed discovery link');
    const href = discovery.replaceAll('&amp;', '&');
    assert.equal(href, `${server.url}/api/oembed?url=${encodeURIComponent(`${server.url}/r/${spaceId}`)}&format=json`);
    const oembed = await fetch(href);
    assert.equal(oembed.status, 200);
    const body = (await oembed.json()) as { type: string; title: string; html: string };
    assert.equal(body.type, 'rich');
    assert.equal(body.title, 'Stage test');
    assert.match(body.html, new RegExp(`^<iframe src="${server.url}/embed/${spaceId}"`));
  });

  test('/c/:id: og:title, og:audio (the clip file), og:image and the Twitter card', async () => {
    const html = await page(`/c/${clipId}`);
    assert.equal(metaIn(html, 'og:title'), 'Clip: Stage test');
    assert.equal(metaIn(html, 'og:audio'), `${server.url}/api/clips/${clipId}/audio.m4a`);
    assert.equal(metaIn(html, 'og:image'), `${server.url}/og.png`);
    assert.equal(metaIn(html, 'twitter:card'), 'summary_large_image');
    const image = await fetch(metaIn(html, 'og:image')!);
    await image.body?.cancel();
    assert.deepEqual([image.status, image.headers.get('content-type')], [200, 'image/png'], 'og:image is served');
  });
});
