/**
 * The launch-night report: drill-launch-night.{json,html} in the output folder (reports/ by default). The page has the scorecard (each
 * figure, its goal, pass or fail, and X Spaces' night as the reference row) and one timeline per
 * measure with the faults marked where they happened.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Fault, NightScore } from './score.ts';

/** One reading of the night, each second (t: seconds from the scheduled start). */
export interface NightPoint {
  readonly t: number;
  readonly waiting: number;
  readonly nowServing: number;
  readonly tokens: number;
  readonly exchanged: number;
  readonly streaming: number;
  readonly silent: number;
}

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;');

/** A timeline: one line per series, a dashed mark per fault. */
function timeline(
  title: string,
  points: readonly NightPoint[],
  series: readonly (keyof NightPoint)[],
  faults: readonly { name: string; t: number }[],
) {
  const w = 760;
  const h = 220;
  const minT = Math.min(0, ...points.map((p) => p.t));
  const maxT = Math.max(1, ...points.map((p) => p.t));
  const maxV = Math.max(1, ...points.flatMap((p) => series.map((s) => p[s])));
  const x = (t: number) => (((t - minT) / (maxT - minT)) * (w - 60) + 45).toFixed(1);
  const y = (v: number) => (h - 25 - (v / maxV) * (h - 50)).toFixed(1);
  const colours = ['#1d4ed8', '#b91c1c', '#047857', '#7c3aed'];
  const lines = series
    .map(
      (s, i) =>
        `<polyline fill="none" stroke="${colours[i % colours.length]}" stroke-width="2" points="${points.map((p) => `${x(p.t)},${y(p[s])}`).join(' ')}"/>` +
        `<text x="${w - 150}" y="${18 + i * 14}" font-size="11" fill="${colours[i % colours.length]}">${s}</text>`,
    )
    .join('');
  const marks = faults
    .map(
      (f, i) =>
        `<line x1="${x(f.t)}" x2="${x(f.t)}" y1="20" y2="${h - 25}" stroke="#92400e" stroke-dasharray="4 3"/>` +
        `<text x="${Number(x(f.t)) + 3}" y="${30 + (i % 4) * 12}" font-size="10" fill="#92400e">${esc(f.name)}</text>`,
    )
    .join('');
  const zero = `<line x1="${x(0)}" x2="${x(0)}" y1="20" y2="${h - 25}" stroke="#111" stroke-width="1"/><text x="${Number(x(0)) + 3}" y="${h - 28}" font-size="10">scheduled start</text>`;
  return (
    `<figure><figcaption>${esc(title)} (max ${maxV})</figcaption><svg width="${w}" height="${h}" role="img" aria-label="${esc(title)}">` +
    `<rect width="${w}" height="${h}" fill="#f8f8f8"/>${zero}${marks}${lines}` +
    `<text x="5" y="15" font-size="11">${maxV}</text><text x="5" y="${h - 8}" font-size="11">${minT.toFixed(0)} s … ${maxT.toFixed(0)} s</text></svg></figure>`
  );
}

/** Writes drill-launch-night.{json,html} into `dir`; returns the page's path. */
export function writeNightReport(
  dir: string,
  summary: Record<string, unknown>,
  score: NightScore,
  points: readonly NightPoint[],
  faults: readonly Fault[],
  scheduledAt: number,
): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'drill-launch-night.json'), JSON.stringify({ ...summary, points }, null, 2));
  const marks = faults.map((f) => ({ name: f.name, t: (f.at - scheduledAt) / 1000 }));
  const rows = score.targets
    .map(
      (t) =>
        `<tr><td>${esc(t.name)}</td><td>${t.value} ${esc(t.unit)}</td><td>${esc(t.goal)}</td><td class="${t.pass ? 'pass' : 'fail'}">${t.pass ? 'PASS' : 'FAIL'}</td><td>${esc(t.x ?? '')}</td></tr>`,
    )
    .join('');
  const html =
    `<!doctype html><html lang="en"><meta charset="utf-8"><title>Amphi: the launch-night drill</title>` +
    `<style>body{font-family:system-ui,sans-serif;max-width:62rem;margin:1rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left}.pass{color:#065f46;font-weight:600}.fail{color:#991b1b;font-weight:600}</style>` +
    `<h1>The launch-night drill: ${score.pass ? 'PASS' : 'FAIL'}</h1>` +
    `<p>A scheduled Space on a local cluster; a flash crowd at 10x the join capacity and junk at 10x the legitimate rate from the scheduled minute; an edge, a control node, the media node and the Redis master killed during the show. The right-hand column is X Spaces on 2024-08-12.</p>` +
    `<table><thead><tr><th>figure</th><th>Amphi</th><th>goal</th><th></th><th>X Spaces, 2024-08-12</th></tr></thead><tbody>${rows}</tbody></table>` +
    timeline('the line: people waiting and the number now serving', points, ['waiting', 'nowServing'], marks) +
    timeline('joins: tokens issued and tickets exchanged (cumulative)', points, ['tokens', 'exchanged'], marks) +
    timeline('the audience: listeners hearing audio, and silent (no audio for 2 s)', points, ['streaming', 'silent'], marks) +
    `<h2>Everything measured</h2><pre>${esc(JSON.stringify({ ...summary, score }, null, 2))}</pre></html>`;
  writeFileSync(join(dir, 'drill-launch-night.html'), html);
  return join(dir, 'drill-launch-night.html');
}
