// Updates the README's screenshots (docs/screenshots/) on purpose. The browser end-to-end test takes
// them on every run, into reports/screenshots/ (ignored by git); this runs the tests that take them
// into a fresh folder, and copies them to docs/ only if it passed, so a failed or
// half-finished run never replaces a picture. `npm run screenshots` builds the web app first.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCREENSHOTS_ENV } from '../test/helpers/screenshots.ts';

const root = new URL('..', import.meta.url).pathname;
const docs = join(root, 'docs', 'screenshots');
const fresh = mkdtempSync(join(tmpdir(), 'amphi-screenshots-'));
try {
  // The first web test takes the listener, host and waiting views; the community suite (all of it) the
  // search, host page, moderation, operators and notices views.
  const runs = [
    ['--test-name-pattern=host goes live', join(root, 'test', 'browser', 'web-e2e.test.ts')],
    [join(root, 'test', 'browser', 'community-e2e.test.ts')],
  ].map((args) =>
    spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...args], {
      cwd: root,
      stdio: 'inherit',
      // Chromium is required, not optional: a missing browser fails instead of skipping.
      env: { ...process.env, AMPHI_TEST_BROWSER: '1', [SCREENSHOTS_ENV]: fresh },
      timeout: 600_000,
      killSignal: 'SIGKILL',
    }),
  );
  const run = runs.find((r) => r.status !== 0) ?? runs[0]!;
  const taken = readdirSync(fresh).filter((f) => f.endsWith('.png'));
  if (run.status !== 0 || taken.length === 0) {
    console.error(
      `screenshots: the browser test did not pass (exit ${run.status ?? run.signal}); docs/screenshots/ is unchanged`,
    );
    process.exitCode = 1;
  } else {
    for (const file of taken) copyFileSync(join(fresh, file), join(docs, file));
    const stale = readdirSync(docs).filter((f) => f.endsWith('.png') && !taken.includes(f));
    console.log(`screenshots: updated ${taken.length} in docs/screenshots/: ${taken.join(', ')}`);
    if (stale.length > 0) console.log(`screenshots: no longer taken, left in place (remove them if unused): ${stale.join(', ')}`);
  }
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
