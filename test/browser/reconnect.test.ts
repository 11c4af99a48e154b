import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../helpers/browser.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually, realTime } from '../helpers/eventually.ts';
import { startLiveServer, type LiveServer } from '../helpers/server.ts';
import { optionalSuite, skipUnless } from '../helpers/skip.ts';
import { writeToneWav } from '../helpers/wav.ts';
import { currentTime, goLiveOnStage, hears, listen, signUp, withoutStreamSupport } from '../helpers/web-app.ts';

/**
 * The web app rides through a server restart by itself: a host speaking 440 Hz from the page
 * (WHIP), a listener on the held stream (MSE) and one on hls.js; the server stops (sessions
 * closed, held streams ended), stays down a few seconds, and starts again on the same data and
 * ports. Without anyone touching a page, the speaker is back on stage and both players play the
 * tone again, each page having said "Reconnecting…" meanwhile.
 */
const built = existsSync(new URL('../../web/dist/index.html', import.meta.url));
const skip = skipUnless({
  available: existsSync(CHROMIUM) && built,
  env: 'AMPHI_TEST_BROWSER',
  suite: 'web app through a restart',
  install: 'chromium and build the web app (npm test builds it)',
});

/** Long enough for hls.js to give up its own retries (a fatal error), short enough for the speaker's backoff. */
const DOWN_MS = 6000;

/**
 * Stops the server the way a process does: the graceful close (speakers told to reconnect, held
 * streams ended), then, after the grace `amphi start` allows, every socket still open is gone, as
 * when the process exits. (Held room-state requests outlive the origin's close, and pages keep
 * asking on kept-alive connections, so an in-process close alone would wait for ever.)
 */
async function stopLikeAProcess(server: LiveServer, graceMs: number): Promise<void> {
  const closing = server.shutdown();
  const closed = await Promise.race([closing.then(() => true), realTime(graceMs, 'the graceful close').then(() => false)]);
  if (!closed) server.app.server.closeAllConnections();
  await closing;
}

optionalSuite('web app through a server restart', { skip, timeout: 300_000 }, () => {
  test('the speaker and both players come back by themselves', { timeout: 120_000 }, async () => {
    const cleanup = new Cleanup();
    try {
      const dataDir = mkdtempSync(join(tmpdir(), 'amphi-restart-'));
      cleanup.add('data dir', () => rmSync(dataDir, { recursive: true, force: true }));
      writeToneWav(join(dataDir, 'host.wav'), 440, 30);
      let server: LiveServer = await startLiveServer({ dataDir });
      cleanup.add('server', () => server.shutdown()); // whichever runs by then
      const ports = {
        server: { port: Number(new URL(server.url).port) },
        stage: { port: Number(new URL(server.stageUrl).port) },
      };
      const hostBrowser: Browser = cleanup.use(
        'host chromium',
        await launchChromium([
          '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream',
          `--use-file-for-fake-audio-capture=${join(dataDir, 'host.wav')}`,
        ]),
        (b) => b.close(),
      );
      const listenerBrowser: Browser = cleanup.use('listener chromium', await launchChromium(), (b) => b.close());

      const host = await hostBrowser.newPage();
      await signUp(host, server.url, 'restart_host');
      const spaceUrl = await goLiveOnStage(host, server.url, 'Through a restart');

      const streamPage = await listenerBrowser.newPage();
      await listen(streamPage, spaceUrl);
      assert.equal(server.edge.streaming, 1, 'the first listener holds the live stream (MSE)');
      const hlsContext = await listenerBrowser.newContext();
      await hlsContext.addInitScript(withoutStreamSupport);
      const hlsPage = await hlsContext.newPage();
      await listen(hlsPage, spaceUrl);
      assert.equal(server.edge.streaming, 1, 'the second listener plays LL-HLS through hls.js');

      // Each page says so, politely, while it reconnects (watched from before the restart: it may be brief).
      const said = (page: Page, text: RegExp) =>
        page.locator('[role="status"][aria-live="polite"]', { hasText: text }).waitFor({ timeout: 60_000 });
      const saidReconnecting = Promise.all([
        said(host, /Reconnecting to the stage… \(attempt \d+\)/),
        said(streamPage, /Reconnecting… \(attempt \d+\)/),
        said(hlsPage, /Reconnecting… \(attempt \d+\)/),
      ]);
      saidReconnecting.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile

      await stopLikeAProcess(server, 2000);
      await realTime(DOWN_MS, 'the server stays down while the pages retry');
      server = await startLiveServer({ dataDir, ...ports });
      const restartedAt = performance.now();
      const resumedFrom = await Promise.all([currentTime(streamPage), currentTime(hlsPage)]);
      await saidReconnecting;

      await eventually('the host back on the stage (a WHIP session)', () => server.stage.sessionCount === 1, {
        timeoutMs: 20_000,
        intervalMs: 100,
      });
      for (const [i, page] of [streamPage, hlsPage].entries()) {
        await eventually(`player ${i} playing again`, async () => (await currentTime(page)) > resumedFrom[i]! + 2, {
          timeoutMs: 20_000,
          intervalMs: 250,
        });
        await hears(page, 440);
        await page.getByText(/Reconnecting/).waitFor({ state: 'detached', timeout: 10_000 });
      }
      await host.getByText(/Reconnecting/).waitFor({ state: 'detached', timeout: 10_000 });
      assert.equal(server.edge.streaming, 1, 'the MSE player holds a stream on the new server');
      console.log(`after the restart, speaker and players were back within ${Math.round(performance.now() - restartedAt)} ms`);
    } finally {
      await cleanup.run();
    }
  });
});
