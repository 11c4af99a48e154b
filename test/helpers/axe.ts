/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AxeResults } from 'axe-core';
import type { Page } from 'playwright-core';

/**
 * axe-core's browser build, evaluated in the page under test. Not through `page.addScriptTag`: that
 * adds an inline script, which the app's Content-Security-Policy (`script-src 'self'`) rightly
 * refuses; an evaluation from the driver is not subject to it, and the page keeps its real policy.
 */
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The impacts a page must not have: a barrier for some people, not a blemish. */
const BLOCKING = new Set(['serious', 'critical']);

/** One rule a page breaks, said shortly: the rule, its impact, what it asks, and where (the first few elements). */
export interface AxeFinding {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly targets: string[];
}

/**
 * A violation already reported and waiting for its fix in the app: the rule on exactly one element
 * (axe's CSS selector for it). Tolerated, and printed on each run, so it is never silently forgotten;
 * the same rule anywhere else, or any other rule, still fails.
 */
export interface KnownViolation {
  readonly id: string;
  readonly target: string;
  readonly why: string;
}

/**
 * Runs axe-core on the page as it is now (the whole document, every rule axe runs by default) and
 * returns the violations of impact serious or critical, but the elements `known` names.
 */
export async function axeViolations(page: Page, known: readonly KnownViolation[] = []): Promise<AxeFinding[]> {
  await settledTransitions(page);
  const loaded = await page.evaluate(() => 'axe' in globalThis);
  if (!loaded) await page.evaluate(AXE);
  const results = await page.evaluate(() =>
    (globalThis as unknown as { axe: { run: (context: Document, options: object) => Promise<AxeResults> } }).axe.run(document, {
      resultTypes: ['violations'],
    }),
  );
  const findings: AxeFinding[] = [];
  for (const v of results.violations) {
    if (!BLOCKING.has(v.impact ?? '')) continue;
    const targets = v.nodes.map((n) => n.target.join(' '));
    const open = targets.filter((t) => !known.some((k) => k.id === v.id && k.target === t));
    for (const k of known.filter((k) => k.id === v.id && targets.includes(k.target)))
      console.log(`axe: known ${v.impact} ${v.id} at ${k.target} on ${page.url()}, waiting for its fix: ${k.why}`);
    if (open.length > 0) findings.push({ id: v.id, impact: v.impact ?? '', help: v.help, targets: open.slice(0, 3) });
  }
  return findings;
}

/**
 * Waits (at most 2 s) until no CSS transition runs: axe reads colours as they are this instant, and a
 * button half-way from the light theme's background to the dark one's fails contrast with either
 * theme's text. A theme switched by `emulateMedia` starts such transitions; under load two animation
 * frames were not always enough for them to end, so the wait is on the transitions themselves.
 */
async function settledTransitions(page: Page): Promise<void> {
  await page.waitForFunction(
    () => !document.getAnimations().some((a) => a.constructor.name === 'CSSTransition' && a.playState === 'running'),
    undefined,
    { timeout: 2000, polling: 'raf' },
  );
}

/** Fails, listing each finding on its own line, when axe finds a serious or critical violation on the page. */
export async function assertAccessible(page: Page, what: string, known: readonly KnownViolation[] = []): Promise<void> {
  const found = await axeViolations(page, known);
  assert.deepEqual(
    found.map((f) => `${f.impact} ${f.id}: ${f.help} at ${f.targets.join(' | ')}`),
    [],
    `axe on ${what} (${page.url()}): ${found.length} serious or critical violations`,
  );
}
