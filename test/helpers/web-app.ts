import type { Page } from 'playwright-core';
import { realTime } from './eventually.ts';

/// <reference lib="dom" />
/**
 * What the browser tests of the web app do on a page: sign up through the form, start a Space, and
 * listen to what the page plays (its Web Audio analyser, `window.amphiProbe`) until a tone is heard.
 */

/** Signs up through the page's form; the browser then holds the session cookie. */
export async function signUp(page: Page, base: string, handle: string): Promise<void> {
  await page.goto(`${base}/signup`);
  await page.getByLabel('Handle').fill(handle);
  await page.getByLabel('Password').fill('a long test password');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(`${base}/`);
}

/** Signs in through the page's form, as an account made by the API (`LiveServer.signUp`'s password). */
export async function signIn(page: Page, base: string, handle: string): Promise<void> {
  await page.goto(`${base}/signin`);
  await page.getByLabel('Handle').fill(handle);
  await page.getByLabel('Password').fill('a long test password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
}

/** Probes what the page plays every 250 ms until three probes in a row peak at `frequencyHz`; the peaks seen. */
export async function hears(page: Page, frequencyHz: number, tries = 40): Promise<number[]> {
  const peaks: number[] = [];
  for (let i = 0; i < tries; i++) {
    const { peakHz } = await page.evaluate(() =>
      (globalThis as unknown as { amphiProbe: () => { peakHz: number } }).amphiProbe(),
    );
    peaks.push(Math.round(peakHz));
    if (peaks.slice(-3).length === 3 && peaks.slice(-3).every((p) => Math.abs(p - frequencyHz) < 8)) return peaks;
    await realTime(250, 'the page analyses more of the audio');
  }
  throw new Error(`never heard ${frequencyHz} Hz steadily; peaks: ${peaks.join(',')}`);
}

/** The page's audio element's position, in seconds. */
export const currentTime = (page: Page) => page.locator('audio').evaluate((a: HTMLAudioElement) => a.currentTime);

/**
 * An init script for a context whose pages must play through hls.js: the browser then says it cannot
 * take Opus in MP4 through MSE (what the held stream's player needs).
 */
export function withoutStreamSupport(): void {
  const supported = MediaSource.isTypeSupported.bind(MediaSource);
  MediaSource.isTypeSupported = (type: string) => type !== 'audio/mp4; codecs="opus"' && supported(type);
}

/** Starts playing the Space on a page and waits until it hears the host's tone. */
export async function listen(page: Page, url: string, frequencyHz = 440): Promise<void> {
  await page.goto(url);
  await page.getByRole('button', { name: '▶ Play' }).click();
  await page.getByRole('button', { name: '■ Stop' }).waitFor();
  await hears(page, frequencyHz);
}

/** A signed-in host creates a Space from the page, goes live and joins the stage; the Space's page URL. */
export async function goLiveOnStage(page: Page, base: string, title: string): Promise<string> {
  await page.goto(`${base}/new`);
  await page.getByLabel('Title').fill(title);
  await page.getByRole('button', { name: 'Create' }).click();
  await page.waitForURL(/\/s\/sp_/);
  await page.getByRole('button', { name: 'Go live' }).click();
  await page.getByRole('button', { name: /Join the stage/ }).click();
  await page.getByRole('button', { name: 'Mute' }).waitFor();
  return page.url();
}
