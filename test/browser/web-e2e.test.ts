/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { CHROMIUM, fakeMicrophone, launchChromium } from '../helpers/browser.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { doorsOpen } from '../helpers/doors-open.ts';
import { eventually, realTime } from '../helpers/eventually.ts';
import { startLiveServer, TEST_SIGNING_KEY, type LiveServer } from '../helpers/server.ts';
import { screenshotsDir } from '../helpers/screenshots.ts';
import { optionalSuite, skipUnless } from '../helpers/skip.ts';
import { writeToneWav } from '../helpers/wav.ts';
import { publishTone } from '../helpers/whip-client.ts';
import { currentTime, hears, signUp } from '../helpers/web-app.ts';
import { SILENCE_RATE } from '../../web/src/catch-up.ts';

/**
 * The web app end to end in Debian's Chromium, each person with their own browser and a fake
 * microphone playing a known tone: a host goes live and speaks 440 Hz; a listener presses Play and
 * hears it; the listener asks to speak, is accepted, speaks 660 Hz and the host hears it; the host
 * ends and the replay plays. Also: screenshots of each view, no console errors, keyboard reach.
 */
const built = existsSync(new URL('../../web/dist/index.html', import.meta.url));
const skip = skipUnless({
  available: existsSync(CHROMIUM) && built,
  env: 'AMPHI_TEST_BROWSER',
  suite: 'web e2e',
  install: 'chromium and build the web app (npm test builds it)',
});

/** The pictures of each view: a build folder (reports/screenshots/); `npm run screenshots` updates the README's. */
const shots = screenshotsDir();

/** Browsers, servers and real media: every test and hook is bounded (a suite's timeout does not cover its hooks). */
const HOOK = { timeout: 60_000 };
const TEST = { timeout: 180_000 };
/** How long a catch-up that reached the live edge is watched staying there. */
const LIVE_WATCH_MS = 10_000;

/**
 * Every request a page makes from now on, to check where a playing listener's page goes: the room
 * state through the edge (`state.json`), never the Space's API resources.
 */
function recordRequests(page: Page): { urls: string[]; toSpaceApi: (spaceId: string) => string[]; stop: () => void } {
  const urls: string[] = [];
  const onRequest = (request: { url(): string }) => void urls.push(request.url());
  page.on('request', onRequest);
  return {
    urls,
    toSpaceApi: (spaceId) => urls.filter((u) => new URL(u).pathname.startsWith(`/api/spaces/${spaceId}`)),
    stop: () => void page.off('request', onRequest),
  };
}

/** Runs the API call that causes a change and waits (1 s at most) for the page to show it: the ms it took. */
async function showsWithin1s(effect: Locator, cause: () => Promise<unknown>, state: 'visible' | 'detached' = 'visible') {
  const started = performance.now();
  const caused = cause();
  await effect.waitFor({ state, timeout: 1000 });
  const ms = performance.now() - started;
  await caused;
  assert.ok(ms < 1000, `shown after ${Math.round(ms)} ms`);
  return Math.round(ms);
}

/** A chapter as `GET /api/spaces/:id/chapters` gives it (seconds on the replay's timeline). */
interface Chapter {
  readonly start: number;
  readonly speaker: { readonly handle: string };
}

/** The listener token in an edge URL (`/l/<token>/<space>/<file>`). */
const tokenIn = (url: string) => new URL(url).pathname.split('/')[2]!;

optionalSuite('web app in Chromium', { skip, timeout: 600_000 }, () => {
  /** What `before` started, closed in `after` even if it stopped half-way. */
  const cleanup = new Cleanup();
  let server: LiveServer;
  let dir: string;
  let hostBrowser: Browser;
  let listenerBrowser: Browser;
  const consoleErrors: string[] = [];

  before(async () => {
    mkdirSync(shots, { recursive: true });
    server = cleanup.use('server', await startLiveServer(), (s) => s.shutdown()); // the machine's load is not under test
    dir = mkdtempSync(join(tmpdir(), 'amphi-e2e-'));
    cleanup.add('fake microphone files', () => rmSync(dir, { recursive: true, force: true }));
    writeToneWav(join(dir, 'host.wav'), 440, 30);
    writeToneWav(join(dir, 'listener.wav'), 660, 30);
    const media = (wav: string) => fakeMicrophone(join(dir, wav));
    hostBrowser = cleanup.use('host chromium', await launchChromium(media('host.wav')), (b) => b.close());
    listenerBrowser = cleanup.use('listener chromium', await launchChromium(media('listener.wav')), (b) => b.close());
  }, HOOK);
  after(() => cleanup.run(), HOOK);

  /** Records the page's console errors but `expected`, matched against "<message> @ <url>". */
  const watch = (page: Page, who: string, expected?: RegExp) =>
    page.on('console', (m) => {
      const error = `${m.text()} @ ${m.location().url}`;
      if (m.type() === 'error' && expected?.test(error) !== true) consoleErrors.push(`${who}: ${error}`);
    });
  // When the Space ends, a speaker's page may ask for the stage again (it reconnects by itself after
  // a drop) before its room state says ended, and hear 409 SPACE_ENDED: its cue to stop.
  const stageEnded = /status of 409 \(Conflict\) @ \S+\/api\/spaces\/sp_[\w-]+\/stage$/;

  test('host goes live, listener hears, asks to speak, is heard; the end; the replay', TEST, async () => {
    const base = server.url;
    const host = await hostBrowser.newPage({ viewport: { width: 1280, height: 860 } });
    const listener = await listenerBrowser.newPage({ viewport: { width: 1280, height: 860 } });
    watch(host, 'host', stageEnded);
    watch(listener, 'listener', stageEnded);

    await signUp(host, base, 'web_host');
    await host.goto(`${base}/new`);
    await host.getByLabel('Title').fill('Launch night');
    await host.getByRole('button', { name: 'Create' }).click();
    await host.waitForURL(/\/s\/sp_/);
    const spaceUrl = host.url();
    const spaceId = spaceUrl.split('/s/')[1]!;
    await host.getByRole('button', { name: 'Go live' }).click();
    await host.getByText('Live', { exact: true }).first().waitFor();
    await host.getByRole('button', { name: /Join the stage/ }).click();
    await host.getByRole('button', { name: 'Mute' }).waitFor();

    await signUp(listener, base, 'web_listener');
    await listener.goto(`${base}/`);
    await listener.getByRole('link', { name: 'Launch night' }).waitFor();
    await listener.screenshot({ path: `${shots}home-desktop.png` });
    await listener.goto(spaceUrl);
    await listener.getByRole('button', { name: '▶ Play' }).click();
    await listener.getByRole('button', { name: '■ Stop' }).waitFor();
    // From here the listener plays: its page follows the room state through the edge, not the API.
    const playing = recordRequests(listener);
    const heardHost = await hears(listener, 440);
    console.log(`listener heard the host: ${heardHost.length} probes`);
    // Chromium plays Opus in MP4 through MSE, so the page listens on the held stream, not LL-HLS.
    assert.equal(server.edge.streaming, 1);
    const behind: number[] = [];
    for (let i = 0; i < 10; i++) {
      behind.push(await listener.evaluate(() => (globalThis as unknown as { amphiBehindMs: () => number }).amphiBehindMs()));
      await realTime(250, 'more audio plays');
    }
    behind.sort((a, b) => a - b);
    // Printed, not asserted tightly: the 2.5 s target is a measured figure (README), not a timed test.
    console.log(`live stream plays ${Math.round(behind[5]!)} ms (p50) / ${Math.round(behind[9]!)} ms (max of 10) behind the mix`);
    assert.ok(behind[9]! < 6000, `playing live: ${behind.join(',')}`);
    const fetched = await listener.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
    assert.ok(!fetched.some((u) => u.includes('.m3u8')), fetched.join('\n'));
    await listener.screenshot({ path: `${shots}listener-desktop.png` });
    playing.stop();
    assert.deepEqual(playing.toSpaceApi(spaceUrl.split('/s/')[1]!), [], 'a playing listener asks the edge, not the API');
    assert.ok(
      fetched.some((u) => new URL(u).pathname.endsWith('/state.json')),
      fetched.join('\n'),
    );
    // A clip of the recent past, while listening: its own page, whose link shows a preview with its audio.
    await listener.getByRole('button', { name: '✂ Clip the last 30 s' }).click();
    const clipLink = listener.getByRole('link', { name: 'Your clip' });
    await clipLink.waitFor();
    const clipUrl = new URL((await clipLink.getAttribute('href'))!, base).href;
    const clipHtml = await (await fetch(clipUrl)).text();
    assert.match(clipHtml, /<meta property="og:audio" content="[^"]+\/api\/clips\/cl_[\w-]+\/audio\.m4a" \/>/);
    assert.match(clipHtml, /<meta property="og:title" content="Clip: Launch night" \/>/);
    assert.equal(await listener.getByRole('button', { name: '■ Stop' }).count(), 1, 'still listening');

    // The host falls silent before the listener comes up, so the listener speaks alone: the recording's
    // second chapter is theirs. (Two voices at once would make the chapters follow whichever tone is
    // louder part by part: a fair split, but not one a test can name in advance.)
    await host.getByRole('button', { name: 'Mute', exact: true }).click();
    await host.getByRole('button', { name: 'Unmute', exact: true }).waitFor();
    await listener.getByRole('button', { name: /Request to speak/ }).click();
    await host.getByRole('button', { name: 'Accept @web_listener' }).click();
    await listener.getByRole('button', { name: /Join the stage/ }).click();
    const heardListener = await hears(host, 660);
    console.log(`host heard the listener: ${heardListener.length} probes`);
    await host.screenshot({ path: `${shots}host-desktop.png` });

    await host.setViewportSize({ width: 390, height: 844 });
    await listener.setViewportSize({ width: 390, height: 844 });
    await host.screenshot({ path: `${shots}host-phone.png`, fullPage: true });
    await listener.screenshot({ path: `${shots}listener-phone.png`, fullPage: true });
    const liveChapters = await eventually(
      "the listener's chapter",
      async () => {
        const found = (await server.api('GET', `/api/spaces/${spaceId}/chapters`)).json.chapters as Chapter[];
        return found.at(-1)?.speaker.handle === 'web_listener' ? found : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    console.log(`chapters while live: ${JSON.stringify(liveChapters.map((c) => [c.start, c.speaker.handle]))}`);
    await listener.goto(`${base}/`);
    await listener.screenshot({ path: `${shots}home-phone.png`, fullPage: true });

    // The waiting view with a long line: the join answers 202 with a ticket and the page polls the
    // now-serving value (both answers stubbed here to show a big line; the real door is in test/api/admission).
    const waiting = await listenerBrowser.newPage({ viewport: { width: 1280, height: 860 } });
    watch(waiting, 'waiting');
    await waiting.route('**/api/spaces/*/join', (route) =>
      route.fulfill({
        status: 202,
        contentType: 'application/json',
        body: JSON.stringify({
          ticket: 't',
          number: 1301,
          position: 1300,
          etaSeconds: 43,
          nowServing: 1,
          lineUrl: `/api/spaces/${spaceUrl.split('/s/')[1]!}/line`,
          client: 'a-client-id-of-enough-length',
        }),
      }),
    );
    await waiting.route('**/api/spaces/*/line', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ nowServing: 67, lastIssued: 1400, perSecond: 30.8 }),
      }),
    );
    await waiting.goto(spaceUrl);
    await waiting.getByRole('button', { name: '▶ Play' }).click();
    await waiting.getByText('You are in line').waitFor();
    // 1301 - 67 = 1234 ahead at 30.8/s: 40 s, and a second to notice: about 41 s, from the polled value,
    // not the first answer (43).
    await waiting.getByText('1234').waitFor();
    assert.match(await waiting.locator('.waiting').innerText(), /1234[\s\S]*41 s/);
    await waiting.screenshot({ path: `${shots}waiting-desktop.png` });
    await waiting.setViewportSize({ width: 390, height: 844 });
    await waiting.screenshot({ path: `${shots}waiting-phone.png`, fullPage: true });
    await waiting.close();

    await host.getByRole('button', { name: 'End the Space' }).click();
    await host.getByText(/Ended/).waitFor();
    await host.getByRole('link', { name: 'Play the replay' }).click({ timeout: 10_000 });
    await host.waitForURL(/\/r\/sp_/);
    // The page attaches the player once its join is answered: a play() before that is interrupted.
    await eventually(
      'the replay to start playing',
      () => host.locator('audio').evaluate((a: HTMLAudioElement) => a.play().then(() => true)),
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    const replay = await hears(host, 440);
    console.log(`replay played the host's tone: ${replay.length} probes`);
    // Chapters by speaker: the host spoke first, then the listener (alone once the host muted); the
    // listener's chapter seeks to where they are heard.
    const listed = (await server.api('GET', `/api/spaces/${spaceId}/chapters`)).json.chapters as Chapter[];
    assert.deepEqual(
      listed.map((c) => c.speaker.handle),
      ['web_host', 'web_listener'],
      `two chapters: ${JSON.stringify(listed)}`,
    );
    const chapters = host.getByRole('navigation', { name: 'Chapters' }).getByRole('button');
    await chapters.first().waitFor();
    assert.equal(await chapters.count(), 2);
    assert.match(await chapters.first().innerText(), /^0:00\s+@web_host$/);
    assert.match(await chapters.nth(1).innerText(), /^\d+:\d\d\s+@web_listener$/);
    await host.screenshot({ path: `${shots}replay-phone.png` });
    await chapters.nth(1).click();
    const jumpedTo = await currentTime(host);
    const second = listed[1]!;
    assert.ok(Math.abs(jumpedTo - second.start) <= 1, `jumped to ${jumpedTo} s, the chapter starts at ${second.start} s`);
    // Within 8 s of the jump: the listener's voice, alone.
    const heardChapter = await hears(host, 660, 32);
    console.log(
      `the listener's chapter at ${second.start} s: jumped to ${jumpedTo.toFixed(2)} s, heard 660 Hz after ${heardChapter.length} probes`,
    );
    assert.equal(await host.getByRole('button', { name: 'Delete replay' }).count(), 1, 'the host may delete it');
  });

  test('a playing listener follows the room state through the edge: changes show within 1 s, no API polling', TEST, async () => {
    const base = server.url;
    const { spaceId, host } = await server.liveSpace(0);
    const guest = await server.signUp('web_guest');
    const page = await listenerBrowser.newPage({ viewport: { width: 1280, height: 860 } });
    // When the Space ends the player may reconnect once before the room state says so, and hear 409
    // SPACE_ENDED (its cue to stop), which the browser logs.
    watch(page, 'room', /status of 409 \(Conflict\)/);
    await page.goto(`${base}/s/${spaceId}`);
    await page.getByRole('button', { name: '▶ Play' }).click();
    await page.getByRole('button', { name: '■ Stop' }).waitFor();
    await page.getByText('1 listening').waitFor();
    const requests = recordRequests(page);
    const shown: Record<string, number> = {};

    await page.getByText('Live', { exact: true }).waitFor();
    shown.reaction = await showsWithin1s(page.locator('.reactions button', { hasText: '🔥 1' }), () =>
      server.api('POST', `/api/spaces/${spaceId}/reactions`, guest.token, { emoji: '🔥' }),
    );
    await server.api('POST', `/api/spaces/${spaceId}/invitations`, host.token, { accountId: guest.id });
    shown.speakerJoins = await showsWithin1s(page.locator('.stage li', { hasText: '@web_guest' }), () =>
      server.api('POST', `/api/spaces/${spaceId}/invitations/me/accept`, guest.token),
    );
    shown.hostMutes = await showsWithin1s(page.getByText('muted by host'), () =>
      server.api('POST', `/api/spaces/${spaceId}/members/${guest.id}/mute`, host.token),
    );
    shown.listenerCount = await showsWithin1s(page.getByText('2 listening'), async () => {
      // Another listener (anonymous) joins and asks its edge once: the edge counts them.
      const grant = (await server.api('POST', `/api/spaces/${spaceId}/join`, undefined, {})).json;
      await fetch(new URL('state.json', grant.playlistUrl as string));
    });
    shown.speakerLeaves = await showsWithin1s(
      page.locator('.stage li', { hasText: '@web_guest' }),
      () => server.api('POST', `/api/spaces/${spaceId}/members/${guest.id}/audience`, host.token),
      'detached',
    );
    // Quiet for a while (two periods of the old 1 s polling): the page keeps asking the edge only.
    await realTime(2500, 'two periods of the old polling pass');
    shown.ended = await showsWithin1s(page.locator('.badge', { hasText: 'Ended' }), () =>
      server.api('POST', `/api/spaces/${spaceId}/end`, host.token),
    );
    await page.getByRole('button', { name: '■ Stop' }).waitFor({ state: 'detached' }); // the program is over
    await page.getByRole('link', { name: 'Play the replay' }).waitFor({ timeout: 10_000 });
    requests.stop();
    console.log(`room state on a playing listener's page (ms from the API call): ${JSON.stringify(shown)}`);
    assert.deepEqual(requests.toSpaceApi(spaceId), [], 'a playing listener asks the edge, not the API');
    const states = requests.urls.filter((u) => new URL(u).pathname.endsWith('/state.json'));
    // Six changes, each seen before the next was made: six new versions, asked for after the first.
    assert.ok(states.length >= 5, `state.json requests: ${states.join('\n')}`);
    assert.ok(
      states.every((u) => new URL(u).searchParams.has('v')),
      'each request asks for the version after the one shown',
    );
    await page.close();
  });

  test('the room-state loop follows the renewed listener token', TEST, async () => {
    // Tokens live 10 s here, so the player renews every few seconds (at 300 s, once every 4 minutes).
    const cleanupTest = new Cleanup();
    try {
      const short = cleanupTest.use(
        'short-token server',
        await startLiveServer({ tokens: { signingKey: TEST_SIGNING_KEY, listenerTokenTtlSeconds: 10 } }),
        (s) => s.shutdown(),
      );
      const page = cleanupTest.use('page', await listenerBrowser.newPage(), (p) => p.close());
      watch(page, 'renewal');
      const { spaceId } = await short.liveSpace(0);
      const guest = await short.signUp('web_renewal');
      await page.goto(`${short.url}/s/${spaceId}`);
      await page.getByRole('button', { name: '▶ Play' }).click();
      await page.getByRole('button', { name: '■ Stop' }).waitFor();
      const requests = recordRequests(page);
      await realTime(15_000, 'the first listener token expires');
      const ms = await showsWithin1s(page.locator('.reactions button', { hasText: '👏 1' }), () =>
        short.api('POST', `/api/spaces/${spaceId}/reactions`, guest.token, { emoji: '👏' }),
      );
      requests.stop();
      const states = requests.urls.filter((u) => new URL(u).pathname.endsWith('/state.json'));
      const tokens = new Set(states.map(tokenIn));
      console.log(`room state after renewals: shown in ${ms} ms; ${states.length} requests with ${tokens.size} tokens`);
      assert.ok(tokens.size >= 2, `state.json kept one token: ${states.join('\n')}`);
      // The renewals are the only API calls (POST join with the token), never the Space on a timer.
      assert.deepEqual(
        requests.toSpaceApi(spaceId).filter((u) => !u.endsWith('/join')),
        [],
        'a playing listener asks the edge, not the API',
      );
    } finally {
      await cleanupTest.run();
    }
  });

  test('doors open: the backstage status; Play before the start hears the host at go-live (goal 2 s)', TEST, async () => {
    const host = await hostBrowser.newPage({ viewport: { width: 1280, height: 860 } });
    const fan = await listenerBrowser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      watch(host, 'doors host', stageEnded);
      watch(fan, 'doors fan');
      const { heardMs: afterMs, playingMs } = await doorsOpen({
        base: server.url,
        host,
        fan,
        handle: 'doors_host',
        screenshot: `${shots}doors-phone.png`,
      });
      console.log(`doors: heard the host ${afterMs} ms after the Go live click (playing after ${playingMs} ms)`);
      // The goal is 2 s (0.8 s measured alone in Chromium); a CI machine busy with other suites beside
      // this one has taken 4.6, 6.3 and 8.3 s. The test holds the behaviour (the player starts by itself
      // and hears the host), with room for that load; the time is printed above. The 2 s is enforced
      // where the machine is quiet: test/drills/doors-open.drill.ts, run alone after the suite.
      assert.ok(afterMs <= 12_000, `heard ${afterMs} ms after going live`);
    } finally {
      await host.close();
      await fan.close();
    }
  });

  test('a shared link: Open Graph and oEmbed; /embed/:id plays inside an iframe on another origin', TEST, async () => {
    const { spaceId, host } = await server.liveSpace(0);
    const tone = await publishTone({ ...(await server.stageToken(spaceId, host.token)), frequencyHz: 440, amplitude: 0.5 });
    let oembedHtml = '';
    const embedder = createServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(`<!doctype html><title>A blog</title><h1>My blog</h1>${oembedHtml}`),
    );
    const context = await listenerBrowser.newContext();
    try {
      await tone.connected();
      // What a crawler reads: the page's head, without running any script.
      const html = await (await fetch(`${server.url}/s/${spaceId}`)).text();
      const meta = (property: string) => new RegExp(`<meta (?:property|name)="${property}" content="([^"]*)"`).exec(html)?.[1];
      assert.equal(meta('og:title'), 'Stage test');
      assert.match(meta('og:description') ?? '', /^Live now · \d+ listening · hosted by @host_\d+ on Amphi$/);
      assert.equal(meta('og:image'), `${server.url}/og.png`);
      assert.equal((await fetch(meta('og:image')!)).headers.get('content-type'), 'image/png');
      assert.equal(meta('twitter:card'), 'summary_large_image');
      const discovery = /<link rel="alternate" type="application\/json\+oembed" href="([^"]+)"/.exec(html)?.[1];
      assert.ok(discovery !== undefined, 'an oEmbed discovery link');
      const oembed = (await (await fetch(discovery.replaceAll('&amp;', '&'))).json()) as {
        type: string;
        html: string;
        title: string;
      };
      assert.equal(oembed.type, 'rich');
      assert.match(oembed.html, new RegExp(`^<iframe src="${server.url}/embed/${spaceId}"`));
      oembedHtml = oembed.html;

      // The iframe oEmbed gave, on a page of another origin (another port): Play inside it, hear the host.
      await new Promise<void>((resolve) => embedder.listen(0, '127.0.0.1', resolve));
      const page = await context.newPage();
      watch(page, 'embedder');
      await page.goto(`http://127.0.0.1:${(embedder.address() as AddressInfo).port}/`);
      const frame = page.frameLocator('iframe');
      await frame.getByRole('link', { name: 'Stage test' }).waitFor();
      await frame.getByRole('button', { name: '▶ Play' }).click();
      await frame.getByRole('button', { name: '■ Stop' }).waitFor();
      const inner = page.frames().find((f) => f.url().includes('/embed/'))!;
      const peaks: number[] = [];
      await eventually(
        'the embedded player plays the host',
        async () => {
          const { peakHz } = await inner.evaluate(() =>
            (globalThis as unknown as { amphiProbe: () => { peakHz: number } }).amphiProbe(),
          );
          peaks.push(Math.round(peakHz));
          return peaks.slice(-3).length === 3 && peaks.slice(-3).every((p) => Math.abs(p - 440) < 8);
        },
        { timeoutMs: 15_000, intervalMs: 250 },
      );
      await page.screenshot({ path: `${shots}embed-desktop.png` });
    } finally {
      await context.close();
      await tone.close();
      embedder.closeAllConnections();
      await new Promise((resolve) => embedder.close(resolve));
    }
  });

  test('catch up: a late listener plays from the start at 2x, reaches the live edge and stays there', TEST, async () => {
    const { spaceId, host } = await server.liveSpace(0);
    const tone = await publishTone({ ...(await server.stageToken(spaceId, host.token)), frequencyHz: 440, amplitude: 0.5 });
    const page = await listenerBrowser.newPage({ viewport: { width: 1280, height: 860 } });
    try {
      watch(page, 'catch-up');
      await tone.connected();
      await realTime(10_000, 'ten seconds of the Space before this listener arrives');
      await page.goto(`${server.url}/s/${spaceId}`);
      await page.getByLabel('at').selectOption('2');
      await page.getByRole('button', { name: '⏪ Catch up from the start' }).click();
      const state = () =>
        page.evaluate(() => {
          const s = (
            globalThis as unknown as { amphiCatchUp?: () => { behindS: number; playbackRate: number; live: boolean } }
          ).amphiCatchUp?.();
          return s === undefined ? undefined : { behindS: s.behindS, playbackRate: s.playbackRate, live: s.live };
        });
      const first = await eventually('catching up', async () => {
        const s = await state();
        return s !== undefined && Number.isFinite(s.behindS) ? s : undefined;
      });
      assert.ok(first.behindS > 6 && !first.live, `starts from the beginning: ${JSON.stringify(first)}`);
      // 2x, or the silence rate when the first look falls in a long silence (sped through, nothing lost).
      assert.ok([2, SILENCE_RATE].includes(first.playbackRate), `catching up at ${first.playbackRate}x`);
      const started = performance.now();
      await eventually('live', async () => (await state())?.live === true, { timeoutMs: 30_000, intervalMs: 250 });
      console.log(
        `catch-up: ${first.behindS.toFixed(1)} s behind at 2x, live after ${Math.round(performance.now() - started)} ms`,
      );
      await page.getByText('Caught up: you are live.').waitFor();
      // It stays at the live edge: watched for 10 s, the player itself (its speed, how far behind its
      // seekable end) as well as the catch-up's state, every 250 ms. Live is within CAUGHT_UP_S (4 s)
      // of the edge; a stall on a busy machine may add a few seconds (a live listener is not sped up
      // again), hence 8 s; falling back to catching up, a slower speed, or a jump back fails at once.
      const player = () =>
        page.locator('audio').evaluate((a: HTMLAudioElement) => ({
          playbackRate: a.playbackRate,
          behindS: a.seekable.length === 0 ? null : a.seekable.end(a.seekable.length - 1) - a.currentTime,
          paused: a.paused,
        }));
      const watchedFrom = performance.now();
      let looks = 0;
      let mostBehindS = 0;
      while (performance.now() - watchedFrom < LIVE_WATCH_MS) {
        const [s, p] = [(await state())!, await player()];
        const seen = JSON.stringify({ state: s, player: p, afterMs: Math.round(performance.now() - watchedFrom) });
        assert.ok(s.live && s.playbackRate === 1 && s.behindS < 8, `the catch-up stays live: ${seen}`);
        assert.ok(p.playbackRate === 1 && !p.paused, `the player plays at speed 1: ${seen}`);
        assert.ok(p.behindS !== null && p.behindS < 8, `the player stays within 8 s of its seekable end: ${seen}`);
        mostBehindS = Math.max(mostBehindS, p.behindS);
        looks++;
        await realTime(250, 'it keeps playing');
      }
      console.log(`catch-up: live for ${LIVE_WATCH_MS} ms (${looks} looks), at most ${mostBehindS.toFixed(1)} s behind`);
      await hears(page, 440);
    } finally {
      await page.close();
      await tone.close();
    }
  });

  test('"Remind me" shows its state, survives a reload and is undone, on the home page and the Space page', TEST, async () => {
    const base = server.url;
    const hostAccount = await fetch(`${base}/api/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ handle: 'remind_host', password: 'a long test password' }),
    }).then((r) => r.json() as Promise<{ token: string }>);
    const created = await fetch(`${base}/api/spaces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${hostAccount.token}` },
      body: JSON.stringify({ title: 'Tomorrow at nine', scheduledStart: new Date(Date.now() + 86_400_000).toISOString() }),
    }).then((r) => r.json() as Promise<{ space: { id: string } }>);
    const id = created.space.id;
    const context = await listenerBrowser.newContext({ viewport: { width: 390, height: 844 } }); // a phone, signed in afresh
    try {
      const fan = await context.newPage();
      watch(fan, 'fan');
      await signUp(fan, base, 'remind_fan');
      const card = fan.locator('li.card', { hasText: 'Tomorrow at nine' });
      const toggle = card.getByRole('button', { name: 'Remind me' });
      await toggle.waitFor();
      assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
      await toggle.click();
      const set = card.getByRole('button', { name: /Reminder set/ });
      await set.waitFor();
      assert.equal(await set.getAttribute('aria-pressed'), 'true');
      await fan.reload();
      await card.getByRole('button', { name: /Reminder set/ }).waitFor(); // the server's state, not the page's memory
      await fan.goto(`${base}/s/${id}`);
      const onPage = fan.getByRole('button', { name: /Reminder set/ });
      await onPage.waitFor();
      const calendar = await fan.request.get(`${base}/api/spaces/${id}/calendar.ics`);
      assert.equal(calendar.headers()['content-type'], 'text/calendar; charset=utf-8');
      assert.match((await fan.getByRole('link', { name: 'Add to calendar' }).getAttribute('href')) ?? '', /calendar\.ics$/);
      await onPage.click(); // undo
      await fan.getByRole('button', { name: 'Remind me' }).waitFor();
      const reminders = async () =>
        (await fetch(`${base}/api/spaces/${id}`).then((r) => r.json() as Promise<{ space: { reminderCount: number } }>)).space
          .reminderCount;
      assert.equal(await reminders(), 0, 'undone on the server');
      await fan.goto(`${base}/`);
      assert.equal(await card.getByRole('button', { name: 'Remind me' }).getAttribute('aria-pressed'), 'false');

      // Undone on the home page too: set from the card, then the card's toggle pressed again.
      const countBefore = await reminders();
      await card.getByRole('button', { name: 'Remind me' }).click();
      await set.waitFor();
      assert.equal(await reminders(), countBefore + 1, 'set from the home page');
      await fan.reload();
      const homeSet = card.getByRole('button', { name: /Reminder set/ });
      await homeSet.waitFor(); // the server's state, as the home page reads it
      assert.equal(await homeSet.getAttribute('aria-pressed'), 'true');
      await homeSet.click(); // undo, on the home page
      const unset = card.getByRole('button', { name: 'Remind me' });
      await unset.waitFor();
      assert.equal(await unset.getAttribute('aria-pressed'), 'false', 'the card shows it undone');
      assert.equal(await reminders(), countBefore, 'undone on the server from the home page');
    } finally {
      await context.close();
    }
  });

  test("the Reminders page: e-mail (refused honestly without SMTP), this browser's service worker, webhooks", TEST, async () => {
    const base = server.url;
    const context = await listenerBrowser.newContext({ viewport: { width: 390, height: 844 } });
    try {
      const page = await context.newPage();
      // Without a push service (none is reachable here) subscribing fails after the worker registered.
      // The refusals this test provokes (no SMTP: 409; a private webhook URL: 400) are console errors too.
      watch(page, 'settings', /push|Registration failed|AbortError|status of (409|400) .*\/api\/me\/(email|webhooks)$/i);
      await signUp(page, base, 'settings_fan');
      await page.getByRole('link', { name: 'Reminders' }).click();
      await page.waitForURL(`${base}/settings`);
      await page.getByText('No address yet.').waitFor();
      await page.getByLabel('E-mail address').fill('fan@example.org');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText(/This server sends no e-mail/).waitFor();
      await page.getByRole('button', { name: 'Notify me in this browser' }).click();
      await page.getByRole('alert').filter({ hasNotText: 'e-mail' }).waitFor();
      const worker = await page.evaluate(async () => {
        const registration = await navigator.serviceWorker.getRegistration('/');
        return (registration?.active ?? registration?.waiting ?? registration?.installing)?.scriptURL;
      });
      assert.equal(worker, `${base}/sw.js`, 'the service worker is served and registered at the root');
      await page.getByLabel('Webhook URL').fill('https://hooks.example.org/amphi');
      await page.getByRole('button', { name: 'Add webhook' }).click();
      await page.getByText(/Signing secret \(shown once\): whsec_/).waitFor();
      await page.getByText('https://hooks.example.org/amphi').waitFor();
      await page.getByLabel('Webhook URL').fill('http://127.0.0.1:9/x');
      await page.getByRole('button', { name: 'Add webhook' }).click();
      await page.getByText(/Webhook URLs must be http\(s\) on a public address/).waitFor();
      await page.getByRole('button', { name: 'Remove' }).click();
      await page.getByText('https://hooks.example.org/amphi').waitFor({ state: 'detached' });
    } finally {
      await context.close();
    }
  });

  test('every interactive element is reachable by keyboard; no console errors', TEST, async () => {
    const page = await listenerBrowser.newPage();
    watch(page, 'keyboard');
    await page.goto(`${server.url}/signup`);
    const total = await page.evaluate(() => document.querySelectorAll('a[href], button:not([disabled]), input, select').length);
    const reached = new Set<string>();
    for (let i = 0; i < total + 5; i++) {
      await page.keyboard.press('Tab');
      reached.add(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.outerHTML.slice(0, 80) ?? ''));
    }
    reached.delete('');
    reached.delete('<body>');
    assert.ok(reached.size >= total, `reached ${reached.size} of ${total}`);
    assert.deepEqual(consoleErrors, []);
  });
});
