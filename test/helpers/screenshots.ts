import { resolve } from 'node:path';

/** The variable that points the browser tests' screenshots somewhere else (scripts/screenshots.ts sets it). */
export const SCREENSHOTS_ENV = 'AMPHI_SCREENSHOTS_DIR';

/**
 * Where the browser tests write screenshots, ending in a slash: `reports/screenshots/`, a build folder
 * ignored by git, so a test run never rewrites the README's pictures in docs/screenshots/. Those are
 * updated on purpose by `npm run screenshots`.
 */
export function screenshotsDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const dir = env[SCREENSHOTS_ENV];
  return `${resolve(dir !== undefined && dir !== '' ? dir : new URL('../../reports/screenshots/', import.meta.url).pathname)}/`;
}
