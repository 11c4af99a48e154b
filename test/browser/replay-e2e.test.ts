/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { assertAccessible } from '../helpers/axe.ts';
import { CHROMIUM, launchChromium } from '../helpers/browser.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually, realTime } from '../helpers/eventually.ts';
import { startLiveServer, type LiveServer } from '../helpers/server.ts';
import { optionalSuite, skipUnless } from '../helpers/skip.ts';
import { publishTone, type TonePublisher } from '../helpers/whip-client.ts';
import { signIn, signUp } from '../helpers/web-app.ts';

/**
 * A replay worth sharing, in Debian's Chromium (issue 18): the recording indicator of a live Space,
 * clips of a length the listener picks (live and from a replay) and the clip's own page, catching up
 * from a chapter, and the host deleting a replay from its page. Speakers publish a tone over WHIP
 * (werift, as the stage tests do); people act in the browser. axe-core checks the pages with the clip
 * form and the clip page (no serious or critical violation).
 */
const skip = skipUnless({
  available: existsSync(CHROMIUM) && existsSync(new URL('../../web/dist/index.html', import.meta.url)),
  env: 'AMPHI_TEST_BROWSER',
  suite: 'replay e2e',
  install: 'chromium and build the web app (npm test builds it)',
});

/** Browsers, servers and real media: every test and hook is bounded (a suite's timeout does not cover its hooks). */
const HOOK = { timeout: 60_000 };
const TEST = { timeout: 120_000 };

optionalSuite('a replay worth sharing, in Chromium', { skip, timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  let server: LiveServer;
  let browser: Browser;

  before(async () => {
    server = cleanup.use('server', await startLiveServer(), (s) => s.shutdown());
    browser = cleanup.use('chromium', await launchChromium(), (b) => b.close());
  }, HOOK);
  after(() => cleanup.run(), HOOK);

  /** A context of its own for each person (its own session cookie), closed by `cleanupTest`. */
  const person = async (cleanupTest: Cleanup): Promise<{ context: BrowserContext; page: Page; errors: string[] }> => {
    const context = cleanupTest.use('context', await browser.newContext({ viewport: { width: 1280, height: 860 } }), (c) =>
      c.close(),
    );
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${m.text()} @ ${m.location().url}`);
    });
    return { context, page, errors };
  };

  /** A tone on the Space's stage from `token`'s account, closed by `cleanupTest`. */
  const speak = async (cleanupTest: Cleanup, spaceId: string, token: string, frequencyHz: number): Promise<TonePublisher> => {
    const tone = await publishTone({ ...(await server.stageToken(spaceId, token)), frequencyHz, amplitude: 0.5 });
    cleanupTest.add('tone', () => tone.close());
    await tone.connected();
    return tone;
  };

  /** A Space of a new host (`handle`), titled, live once `live` is set. */
  const space = async (handle: string, title: string, live: boolean) => {
    const host = await server.signUp(handle);
    const spaceId = (await server.api('POST', '/api/spaces', host.token, { title })).json.space.id as string;
    if (live) assert.equal((await server.api('POST', `/api/spaces/${spaceId}/start`, host.token)).status, 200);
    return { spaceId, host };
  };

  const view = async (spaceId: string) => (await server.api('GET', `/api/spaces/${spaceId}`)).json.space;

  const endAndAwaitReplay = async (spaceId: string, hostToken: string) => {
    assert.equal((await server.api('POST', `/api/spaces/${spaceId}/end`, hostToken)).status, 200);
    await eventually('the replay', async () => (await view(spaceId)).replay.available === true, { timeoutMs: 15_000 });
  };

  test('a live Space being recorded says so: "● Recording" on its page, `recording` in its API view', TEST, async () => {
    const cleanupTest = new Cleanup();
    try {
      const { spaceId, host } = await space('rec_host', 'On the record', false);
      assert.equal((await view(spaceId)).recording, false, 'scheduled: nothing recorded yet');
      const { page, errors } = await person(cleanupTest);
      await page.goto(`${server.url}/s/${spaceId}`);
      await page.getByRole('heading', { name: 'On the record' }).waitFor();
      const badge = page.locator('.space-hero .status').getByText('● Recording', { exact: true });
      assert.equal(await badge.count(), 0, 'no badge before the start');

      await server.api('POST', `/api/spaces/${spaceId}/start`, host.token);
      await speak(cleanupTest, spaceId, host.token, 440);
      await eventually('the API view to say recording', async () => (await view(spaceId)).recording === true);
      await page.reload();
      await badge.waitFor({ state: 'visible', timeout: 10_000 });
      assert.equal(await badge.getAttribute('title'), 'This Space is recorded: a replay will be available once it ends');

      await endAndAwaitReplay(spaceId, host.token);
      assert.equal((await view(spaceId)).recording, false, 'ended: no longer recording');
      await page.reload();
      await page.getByRole('link', { name: 'Play the replay' }).waitFor();
      assert.equal(await badge.count(), 0, 'no badge once ended');
      assert.deepEqual(errors, []);
    } finally {
      await cleanupTest.run();
    }
  });

  test(
    'a listener picks the clip length (live, then from a replay); 4 and 61 s are refused; the clip page plays it',
    TEST,
    async () => {
      const cleanupTest = new Cleanup();
      try {
        const { spaceId, host } = await space('clip_host', 'Clip night', true);
        await speak(cleanupTest, spaceId, host.token, 440);
        const { context, page, errors } = await person(cleanupTest);
        await signUp(page, server.url, 'clip_picker');
        const clipPosts: string[] = [];
        page.on('request', (r) => {
          if (r.method() === 'POST' && r.url().endsWith('/clips')) clipPosts.push(r.url());
        });
        await realTime(10_000, 'ten seconds of the Space recorded');

        await page.goto(`${server.url}/s/${spaceId}`);
        const length = page.getByLabel('Clip length (s)');
        assert.equal(await length.inputValue(), '30', 'live: the last 30 s unless the listener picks');
        await assertAccessible(page, 'a live Space with the clip length');
        for (const [seconds, flag] of [
          ['4', 'rangeUnderflow'],
          ['61', 'rangeOverflow'],
        ] as const) {
          await length.fill(seconds);
          await page.getByRole('button', { name: `✂ Clip the last ${seconds} s` }).click();
          assert.equal(await length.evaluate((i: HTMLInputElement, f) => i.validity[f], flag), true, `${seconds} s refused`);
        }
        await length.fill('8');
        await page.getByRole('button', { name: '✂ Clip the last 8 s' }).click();
        await openClip(context, page, 8);
        assert.deepEqual(clipPosts.length, 1, 'the refused lengths never reached the server');

        await endAndAwaitReplay(spaceId, host.token);
        await page.goto(`${server.url}/r/${spaceId}`);
        const replay = page.getByLabel('Replay', { exact: true });
        await eventually(
          'the replay to load',
          () => replay.evaluate((a: HTMLAudioElement) => a.readyState >= 1 && a.duration > 9),
          {
            timeoutMs: 15_000,
            intervalMs: 200,
          },
        );
        // The listener pauses at 0:03 (the page may have started playing by itself).
        await replay.evaluate(
          (a: HTMLAudioElement) =>
            new Promise((resolve) => {
              a.pause();
              a.addEventListener('seeked', resolve, { once: true });
              a.currentTime = 3;
            }),
        );
        const replayLength = page.getByLabel('Clip length (s)');
        assert.equal(await replayLength.inputValue(), '20', 'replay: 20 s unless the listener picks');
        await assertAccessible(page, 'a replay with the clip length');
        await replayLength.fill('6');
        await page.getByRole('button', { name: '✂ Clip 6 s from here' }).click();
        const replayClip = await openClip(context, page, 6, '0:03');
        assert.ok(Math.abs(replayClip.start - 3) <= 0.1, `starts where the replay was: ${replayClip.start} s`);
        assert.deepEqual(errors, []);
      } finally {
        await cleanupTest.run();
      }
    },
  );

  test("catch up from a chapter: the player starts at that speaker's chapter, not the start", TEST, async () => {
    const cleanupTest = new Cleanup();
    try {
      const { spaceId, host, speakers } = await server.liveSpace(1);
      const hostTone = await speak(cleanupTest, spaceId, host.token, 440);
      await realTime(6000, 'the host speaks for six seconds');
      await hostTone.close();
      await speak(cleanupTest, spaceId, speakers[0]!.token, 660);
      await realTime(6000, 'then the guest, for six seconds (and on)');
      const chapters = (await server.api('GET', `/api/spaces/${spaceId}/chapters`)).json.chapters as {
        start: number;
        speaker: { handle: string };
      }[];
      assert.equal(chapters.length, 2, JSON.stringify(chapters));
      const guest = chapters[1]!;
      assert.ok(guest.start >= 4, `the guest's chapter starts well after the start: ${guest.start} s`);

      const { page, errors } = await person(cleanupTest);
      await page.goto(`${server.url}/s/${spaceId}`);
      await page.getByText('or from a speaker').click();
      const from = page.getByRole('button', { name: new RegExp(`^@${guest.speaker.handle} \\(\\d+:\\d\\d\\)$`) });
      await from.waitFor();
      // Where the audio element first plays from: set before the click, read once it plays.
      await page.locator('audio').evaluate((a: HTMLAudioElement) => {
        a.addEventListener('playing', () => (a.dataset.firstPlaying = String(a.currentTime)), { once: true });
      });
      await from.click();
      const firstPlaying = Number(
        await eventually('the catch-up to play', () => page.locator('audio').getAttribute('data-first-playing'), {
          timeoutMs: 15_000,
          intervalMs: 100,
        }),
      );
      const state = await page.evaluate(() =>
        (globalThis as unknown as { amphiCatchUp?: () => { behindS: number; live: boolean } }).amphiCatchUp?.(),
      );
      console.log(
        `catch-up from @${guest.speaker.handle}'s chapter at ${guest.start} s: played from ${firstPlaying.toFixed(2)} s`,
      );
      assert.ok(Math.abs(firstPlaying - guest.start) <= 1, `played from ${firstPlaying} s, the chapter is at ${guest.start} s`);
      assert.ok(state !== undefined && !state.live, `catching up, not live: ${JSON.stringify(state)}`);
      assert.deepEqual(errors, []);
    } finally {
      await cleanupTest.run();
    }
  });

  test('the host deletes the replay from its page (after confirming): it is gone, its media answer 410', TEST, async () => {
    const cleanupTest = new Cleanup();
    try {
      const { spaceId, host } = await space('del_host', 'Off the record', true);
      await speak(cleanupTest, spaceId, host.token, 440);
      await realTime(6000, 'a little to record');
      const clip = await server.api('POST', `/api/spaces/${spaceId}/clips`, host.token, { last: 5 });
      assert.equal(clip.status, 201, JSON.stringify(clip.json));
      await endAndAwaitReplay(spaceId, host.token);
      const media = [`/api/spaces/${spaceId}/recording.m4a`, `/api/clips/${clip.json.clip.id}/audio.m4a`];
      for (const path of media) assert.equal((await fetch(`${server.url}${path}`)).status, 200, path);

      const { page, errors } = await person(cleanupTest);
      await signIn(page, server.url, 'del_host');
      await page.goto(`${server.url}/r/${spaceId}`);
      const remove = page.getByRole('button', { name: 'Delete replay' });
      const confirmed: string[] = [];
      page.once('dialog', (d) => void (confirmed.push(d.message()), d.dismiss()));
      await remove.click();
      await eventually('the confirmation', () => confirmed.length === 1);
      await realTime(500, 'a dismissed confirmation sends nothing');
      assert.equal((await view(spaceId)).replay.available, true, 'dismissed: the replay stays');

      page.once('dialog', (d) => void (confirmed.push(d.message()), d.accept()));
      await remove.click();
      await page.waitForURL(`${server.url}/s/${spaceId}`);
      assert.match(confirmed[1]!, /^Delete this replay for everyone, for good\?/);
      await page.getByText('Ended', { exact: true }).first().waitFor();
      assert.equal(await page.getByRole('link', { name: 'Play the replay' }).count(), 0, 'no replay to play');
      await page.goto(`${server.url}/r/${spaceId}`);
      await page
        .getByRole('alert')
        .getByText(/The host deleted the replay of this Space/)
        .waitFor();
      assert.equal(await page.getByRole('button', { name: 'Delete replay' }).count(), 0);

      assert.deepEqual((await view(spaceId)).replay, { available: false, durationSeconds: null });
      for (const path of media) {
        const res = await server.api('GET', path);
        assert.deepEqual([res.status, res.json.error.code], [410, 'RECORDING_DELETED'], path);
      }
      // The deleted replay's page asked to join once and was told 410: the one console error expected.
      assert.deepEqual(
        errors.filter((e) => !/status of 410 \(Gone\) @ \S+\/api\/spaces\/sp_[\w-]+\/join$/.test(e)),
        [],
      );
    } finally {
      await cleanupTest.run();
    }
  });
});

/**
 * Follows the "Your clip" link the page shows (it opens a tab): the clip's page says what it is of
 * and how long, and its audio element holds that many seconds (±0.5 s). The clip as the API has it.
 */
async function openClip(
  context: BrowserContext,
  page: Page,
  seconds: number,
  from?: string,
): Promise<{ start: number; end: number; durationSeconds: number }> {
  const link = page.getByRole('link', { name: 'Your clip' });
  await link.waitFor();
  assert.match((await link.getAttribute('href'))!, /^\/c\/cl_[\w-]+$/);
  const [tab] = await Promise.all([context.waitForEvent('page'), link.click()]);
  try {
    await tab.waitForURL(/\/c\/cl_/);
    const clipId = new URL(tab.url()).pathname.slice('/c/'.length);
    const { clip, space } = (await (await tab.request.get(new URL(`/api/clips/${clipId}`, tab.url()).href)).json()) as {
      clip: { start: number; end: number; durationSeconds: number };
      space: { title: string; host: { handle: string } };
    };
    assert.equal(clip.durationSeconds, seconds);
    assert.equal(await tab.getByRole('heading', { level: 1 }).innerText(), space.title);
    const summary = `A ${seconds} s clip of @${space.host.handle}'s Space, from ${from ?? ''}`;
    await tab.getByText(summary).waitFor();
    const audio = tab.getByLabel('Clip', { exact: true });
    assert.match((await audio.getAttribute('src'))!, new RegExp(`^/api/clips/${clipId}/audio\\.m4a$`));
    const played = await audio.evaluate(
      (a: HTMLAudioElement) =>
        new Promise<number>((resolve, reject) => {
          if (a.readyState >= 1) resolve(a.duration);
          a.addEventListener('loadedmetadata', () => resolve(a.duration), { once: true });
          a.addEventListener('error', () => reject(new Error(`audio error ${a.error?.code}: ${a.error?.message}`)), {
            once: true,
          });
        }),
    );
    console.log(`clip of ${seconds} s picked: the clip page's audio element holds ${played.toFixed(3)} s`);
    assert.ok(Math.abs(played - seconds) <= 0.5, `the clip page's audio holds ${played} s, ${seconds} s picked`);
    await tab.getByRole('link', { name: 'The whole Space' }).waitFor();
    await assertAccessible(tab, 'a clip page');
    return clip;
  } finally {
    await tab.close();
  }
}
