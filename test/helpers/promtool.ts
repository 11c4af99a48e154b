import { spawnSync } from 'node:child_process';
import { hasCommands, skipUnless } from './skip.ts';

/**
 * promtool (Debian's package `prometheus`) is required where AMPHI_TEST_NGINX=1, the flag CI sets for the
 * suites needing outside tools.
 */
export const promtoolSkip = skipUnless({
  available: hasCommands('promtool'),
  env: 'AMPHI_TEST_NGINX',
  suite: 'promtool check metrics',
  install: 'promtool (Debian package prometheus)',
});

/** promtool's findings on an exposition text: one line each, none when clean. */
export function promtoolFindings(text: string): { status: number | null; lines: string[] } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, lines: `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '') };
}
