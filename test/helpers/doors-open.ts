/// <reference lib="dom" />
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { realTime } from './eventually.ts';
import { signUp } from './web-app.ts';

/** How long after the Go live click the fan's page is listened to for the host. */
const LISTEN_MS = 12_000;
/** The start the host announces when creating the Space, then the one they move it to (local times, as typed). */
const ANNOUNCED = '2099-01-01T19:00';
const MOVED = '2099-01-01T19:30';

/**
 * Doors open, as a fan lives it (the web e2e suite and the doors-open drill run the same scenario):
 * a host creates a Space in their browser and stays backstage; the fan opens its page, presses Play
 * before the start and sees the backstage status (the start announced at creation, the host arriving,
 * their microphone checked, the start moved and from when); the host goes live and the fan hears them
 * (`frequencyHz`, the host's fake microphone) without another click. Resolves with the ms from the Go live click to the first of three probes in
 * a row (100 ms apart) that hear the host (`heardMs`), and to the fan's audio element starting to play
 * (`playingMs`, read on the page's clock: where the time went); every step is asserted on the way.
 */
export async function doorsOpen(options: {
  readonly base: string;
  /** A page of a browser whose fake microphone plays `frequencyHz`. */
  readonly host: Page;
  readonly fan: Page;
  /** The host's handle (new on this server). */
  readonly handle: string;
  readonly frequencyHz?: number;
  /** Where to save the fan's view of the doors, if anywhere. */
  readonly screenshot?: string;
}): Promise<{ heardMs: number; playingMs: number }> {
  const { base, host, fan, handle, frequencyHz = 440 } = options;
  await signUp(host, base, handle);
  await host.goto(`${base}/new`);
  await host.getByLabel('Title').fill('Doors at seven');
  await host.getByLabel('Start time').fill(ANNOUNCED);
  await host.getByRole('button', { name: 'Create' }).click();
  await host.waitForURL(/\/s\/sp_/);
  const spaceUrl = host.url();

  await fan.goto(spaceUrl);
  const doors = fan.getByRole('region', { name: 'Backstage' });
  await doors.getByText(`@${handle} has not arrived backstage yet.`).waitFor();
  // The times as the fan's page writes them (its locale and zone; both browsers run on this machine).
  const shown = (local: string) =>
    fan.evaluate(
      (at) =>
        new Date(at).toLocaleString([], { hour: '2-digit', minute: '2-digit', year: 'numeric', month: 'short', day: 'numeric' }),
      local,
    );
  const [announced, moved] = [await shown(ANNOUNCED), await shown(MOVED)];
  const start = doors.locator('li.start');
  assert.equal(await start.innerText(), `Starts at ${announced}.`, 'the start announced at creation');
  await fan.getByRole('button', { name: '▶ Play' }).click();
  await doors.getByText(/You are in\. The player starts by itself/).waitFor();
  await doors.getByText('1 person waiting.').waitFor({ timeout: 5000 }); // counted by the edge it follows
  assert.equal(await fan.getByRole('button', { name: '■ Stop' }).count(), 0, 'nothing plays before the start');

  // The host connects from the green room: the fan sees them arrive and their microphone heard.
  await host.getByRole('button', { name: /Join the stage/ }).click();
  await doors.getByText(`✅ @${handle} is backstage.`).waitFor({ timeout: 10_000 });
  await doors.getByText('✅ Microphone checked.').waitFor({ timeout: 10_000 });
  // The host moves the start (a PATCH of the Space): the fan's page says it moved, and from when.
  await host.getByLabel('Move the start to').fill(MOVED);
  await host.getByRole('button', { name: 'Move' }).click();
  await doors.getByText(`Starts at ${moved} (moved from ${announced}).`, { exact: true }).waitFor({ timeout: 5000 });
  if (options.screenshot !== undefined) await fan.screenshot({ path: options.screenshot });

  // When the fan's page starts playing, on its own clock (read against the click below): where the time goes.
  await fan.locator('audio').evaluate((a: HTMLAudioElement) => {
    a.addEventListener('playing', () => (a.dataset.playingAt = String(performance.now())), { once: true });
  });
  const fanClock = await fan.evaluate(() => performance.now());
  const wentLive = performance.now();
  await host.getByRole('button', { name: 'Go live' }).click();
  // Probed every 100 ms: the first of three probes in a row that hear the host is when it was heard.
  let heardAt: number | undefined;
  const peaks: number[] = [];
  for (let run = 0; performance.now() - wentLive < LISTEN_MS;) {
    const at = performance.now();
    const { peakHz } = await fan.evaluate(() => (globalThis as unknown as { amphiProbe: () => { peakHz: number } }).amphiProbe());
    peaks.push(Math.round(peakHz));
    run = Math.abs(peakHz - frequencyHz) < 8 ? run + 1 : 0;
    if (run === 1) heardAt = at;
    if (run === 3) break;
    await realTime(100, 'the page plays a little more');
  }
  assert.ok(
    heardAt !== undefined && peaks.slice(-3).every((p) => Math.abs(p - frequencyHz) < 8),
    `never heard the host: ${peaks.join(',')}`,
  );
  await fan.getByRole('button', { name: '■ Stop' }).waitFor();
  assert.ok((await fan.locator('audio').evaluate((a: HTMLAudioElement) => a.currentTime)) > 0);
  assert.equal(await doors.count(), 0, 'the doors card goes once live');
  const playingAt = Number(await fan.locator('audio').getAttribute('data-playing-at'));
  return { heardMs: Math.round(heardAt - wentLive), playingMs: Math.round(playingAt - fanClock) };
}
