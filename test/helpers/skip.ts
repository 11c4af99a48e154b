import { spawnSync } from 'node:child_process';

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
