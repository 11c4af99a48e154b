import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../helpers/browser.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { servePlayerPage } from '../helpers/player-page.ts';
import { realTime } from '../helpers/eventually.ts';
import { startLiveServer, type LiveServer } from '../helpers/server.ts';
import { optionalSuite, skipUnless } from '../helpers/skip.ts';
import { publishTone, type TonePublisher } from '../helpers/whip-client.ts';

/**
 * hls.js in Debian's Chromium plays a live Space through the edge (LL-HLS, Opus in CMAF), and the
 * page's Web Audio analyser hears the speaker's 440 Hz. CI installs chromium and sets
 * AMPHI_TEST_BROWSER=1; without chromium the suite is skipped with a notice.
 */
const skip = skipUnless({
  available: existsSync(CHROMIUM),
  env: 'AMPHI_TEST_BROWSER',
  suite: 'browser tests',
  install: 'chromium',
});

/** A browser, a publisher and servers: every test and hook is bounded (a suite's timeout does not cover its hooks). */
const HOOK = { timeout: 60_000 };

optionalSuite('hls.js in Chromium', { skip, timeout: 300_000 }, () => {
  /** What `before` started, closed in `after` even if it stopped half-way. */
  const cleanup = new Cleanup();
  let server: LiveServer;
  let pagesUrl: string;
  let browser: Browser;
  let pub: TonePublisher;
  let playlistUrl: string;

  before(async () => {
    server = cleanup.use('server', await startLiveServer(), (s) => s.shutdown()); // the machine's load is not under test
    pagesUrl = await servePlayerPage(cleanup);
    const { spaceId, host } = await server.liveSpace(0);
    const stage = await server.stageToken(spaceId, host.token);
    pub = cleanup.use('tone publisher', await publishTone({ ...stage, frequencyHz: 440 }), (p) => p.close());
    await pub.connected();
    playlistUrl = ((await server.api('POST', `/api/spaces/${spaceId}/join`)).json as { playlistUrl: string }).playlistUrl;
    // Listeners arrive at a Space that has been live a while: the player's start position depends on it.
    await realTime(2500, 'a segment of the speaker in the program before the player starts');
    browser = cleanup.use('chromium', await launchChromium(), (b) => b.close());
  }, HOOK);
  after(() => cleanup.run(), HOOK);

  test('plays the live stream; the analyser hears 440 Hz; latency to the speaker is measured', { timeout: 120_000 }, async () => {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.goto(`${pagesUrl}/?src=${encodeURIComponent(playlistUrl)}`);
    await realTime(4000, 'hls.js loads and plays a while');
    const samples: {
      peakHz: number;
      currentTime: number;
      behindProgramDateTimeMs: number | null;
      firstPlayingMs: number | null;
      errors: string[];
    }[] = [];
    for (let i = 0; i < 10; i++) {
      samples.push(await page.evaluate(() => (globalThis as unknown as { probe: () => (typeof samples)[number] }).probe()));
      await realTime(300, 'more playback before the next probe');
    }
    const last = samples[samples.length - 1]!;
    assert.deepEqual(
      last.errors.filter((e) => e.endsWith(':fatal')),
      [],
      'no fatal hls.js errors',
    );
    assert.ok(last.currentTime > 2, `playing: currentTime ${last.currentTime}`);
    const heard = samples.filter((s) => Math.abs(s.peakHz - 440) < 6).length;
    assert.ok(heard >= 8, `440 Hz dominant in ${heard}/10 probes: ${samples.map((s) => Math.round(s.peakHz)).join(',')}`);
    const behind = samples.map((s) => s.behindProgramDateTimeMs!).sort((a, b) => a - b);
    // PROGRAM-DATE-TIME stamps the tick that mixed a frame; the speaker's audio entered about 60 ms
    // before that (jitter buffer and tick alignment), measured by the stage tests.
    console.log(
      `hls.js plays ${behind[Math.floor(behind.length / 2)]} ms (p50) / ${behind[behind.length - 1]} ms (max of 10) behind the mix clock; speaker to listener adds ~60 ms`,
    );
    // The 2.5 s latency target is a measured figure (printed above, reported in the README); the test
    // only requires live playback, i.e. within the non-LL HOLD-BACK of 6 s, so a loaded CI machine
    // cannot turn a timing into a failure.
    assert.ok(behind[behind.length - 1]! < 6000, `playing live: ${behind.join(',')} ms behind`);
    // Join to first audio: a fresh page's navigation start to the audio element's first 'playing'.
    const firstPlaying = samples[0]!.firstPlayingMs;
    console.log(`page load to first audio with hls.js: ${Math.round(firstPlaying ?? -1)} ms`);
    assert.ok(firstPlaying !== null && firstPlaying < 5000, `first audio after ${firstPlaying} ms`);
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });
});
