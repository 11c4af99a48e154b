import { spawnSync } from 'node:child_process';
import { describe, test, type SuiteContext } from 'node:test';

/** Whether every named program is on the PATH. */
export function hasCommands(...names: string[]): boolean {
  return spawnSync('sh', ['-c', names.map((n) => `command -v ${n}`).join(' && ')], { stdio: 'ignore' }).status === 0;
}

/**
 * The `skip` option of a suite that needs programs from outside Node (ffmpeg, nginx, Chromium): it
 * runs where they are installed; elsewhere it is skipped with a notice, unless `env`=1 requires it.
 * CI installs them and sets `env`, so there a missing program fails the suite instead of skipping it.
 */
export function skipUnless(options: { available: boolean; env: string; suite: string; install: string }): false | string {
  if (options.available || process.env[options.env] === '1') return false;
  const notice = `${options.suite} skipped: install ${options.install} (CI does; ${options.env}=1 requires it)`;
  console.log(notice);
  return notice;
}

/**
 * `describe(name, options, fn)` for a suite that needs an optional peer, skipped where `options.skip`
 * says why. node:test counts skipped tests, not skipped suites: a skipped `describe` leaves the
 * summary at "skipped 0", so a missing tool would pass unnoticed. Skipped, the suite is registered as
 * one skipped test of the same name instead, and the summary says "skipped 1" per suite.
 */
export function optionalSuite(
  name: string,
  options: { readonly skip: false | string; readonly timeout?: number },
  fn: (suite: SuiteContext) => void | Promise<void>,
): void {
  if (options.skip === false) describe(name, { timeout: options.timeout }, fn);
  else test(name, { skip: options.skip }, () => {});
}
