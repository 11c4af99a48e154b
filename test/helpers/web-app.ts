import type { Page } from 'playwright-core';
import { realTime } from './eventually.ts';

/**
 * What the browser tests of the web app do on a page: sign up through the form, and listen to what
 * the page plays (its Web Audio analyser, `window.amphiProbe`) until a tone is heard steadily.
 */

/** Signs up through the page's form; the browser then holds the session cookie. */
export async function signUp(page: Page, base: string, handle: string): Promise<void> {
  await page.goto(`${base}/signup`);
  await page.getByLabel('Handle').fill(handle);
  await page.getByLabel('Password').fill('a long test password');
  await page.getByRole('button', { name: 'Sign up' }).click();
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
