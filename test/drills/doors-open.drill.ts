/**
 * Doors open, timed where the machine is quiet: a listener who pressed Play before the start hears the
 * host within 2 s of the Go live click, without another click (issue 18's acceptance). The web e2e
 * suite runs the same scenario (test/helpers/doors-open.ts) with room for a CI machine busy with other
 * suites; `npm test` runs this file alone, after the rest of the suite (files named *.drill.ts), so
 * here the goal itself is held. The figure is printed either way.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { CHROMIUM, fakeMicrophone, launchChromium } from '../helpers/browser.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { doorsOpen } from '../helpers/doors-open.ts';
import { startLiveServer, type LiveServer } from '../helpers/server.ts';
import { optionalSuite, skipUnless } from '../helpers/skip.ts';
import { writeToneWav } from '../helpers/wav.ts';

/** The acceptance: heard within this many ms of going live. */
const GOAL_MS = 2000;

const skip = skipUnless({
  available: existsSync(CHROMIUM) && existsSync(new URL('../../web/dist/index.html', import.meta.url)),
  env: 'AMPHI_TEST_BROWSER',
  suite: 'doors-open drill',
  install: 'chromium and build the web app (npm test builds it)',
});

optionalSuite('the doors-open drill', { skip, timeout: 180_000 }, () => {
  const cleanup = new Cleanup();
  let server: LiveServer;
  let hostBrowser: Browser;
  let fanBrowser: Browser;

  before(
    async () => {
      server = cleanup.use('server', await startLiveServer(), (s) => s.shutdown());
      const dir = mkdtempSync(join(tmpdir(), 'amphi-doors-'));
      cleanup.add('fake microphone file', () => rmSync(dir, { recursive: true, force: true }));
      writeToneWav(join(dir, 'host.wav'), 440, 30);
      hostBrowser = cleanup.use('host chromium', await launchChromium(fakeMicrophone(join(dir, 'host.wav'))), (b) => b.close());
      fanBrowser = cleanup.use('fan chromium', await launchChromium(), (b) => b.close());
    },
    { timeout: 60_000 },
  );
  after(() => cleanup.run(), { timeout: 60_000 });

  // Best of two nights: a real regression (the player waiting for a poll, a second click) is slow both
  // times; one slow night on a CI machine that is still settling is not the feature. Both are printed.
  test(
    `Play before the start: the host is heard within ${GOAL_MS} ms of going live (best of 2)`,
    { timeout: 150_000 },
    async () => {
      const figures: number[] = [];
      for (const night of [1, 2]) {
        const host = await hostBrowser.newPage({ viewport: { width: 1280, height: 860 } });
        const fan = await fanBrowser.newPage({ viewport: { width: 390, height: 844 } });
        try {
          const { heardMs, playingMs } = await doorsOpen({ base: server.url, host, fan, handle: `drill_host${night}` });
          console.log(
            `doors-open drill, night ${night}: heard the host ${heardMs} ms after the Go live click (goal ${GOAL_MS} ms); the page played after ${playingMs} ms`,
          );
          figures.push(heardMs);
        } finally {
          await host.close();
          await fan.close();
        }
        if (figures.at(-1)! <= GOAL_MS) break;
      }
      const best = Math.min(...figures);
      assert.ok(best <= GOAL_MS, `heard ${figures.join(' and ')} ms after going live (goal ${GOAL_MS} ms)`);
    },
  );
});
