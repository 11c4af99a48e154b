/** Where every benchmark writes its numbers: reports/<name>.json, and an HTML page with plots when asked. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const reports = new URL('../../reports/', import.meta.url).pathname;

export interface Plot {
  readonly title: string;
  readonly series: readonly { t: number; v: number }[];
  readonly unit: string;
}

export interface Target {
  readonly name: string;
  readonly value: number | string;
  readonly target: string;
  readonly pass: boolean;
}

/** A small inline SVG line plot (0 at the bottom, the series' maximum at the top). */
export function svgPlot({ title, series, unit }: Plot): string {
  const w = 640;
  const h = 200;
  const maxT = Math.max(1, ...series.map((s) => s.t));
  const maxV = Math.max(1e-9, ...series.map((s) => s.v));
  const points = series
    .map((s) => `${((s.t / maxT) * (w - 40) + 35).toFixed(1)},${(h - 20 - (s.v / maxV) * (h - 40)).toFixed(1)}`)
    .join(' ');
  return `<figure><figcaption>${title} (max ${maxV.toFixed(2)} ${unit})</figcaption><svg width="${w}" height="${h}" role="img" aria-label="${title}"><rect width="${w}" height="${h}" fill="#f8f8f8"/><polyline fill="none" stroke="#1d4ed8" stroke-width="2" points="${points}"/><text x="5" y="15" font-size="11">${maxV.toFixed(1)}</text><text x="5" y="${h - 5}" font-size="11">0 · ${maxT.toFixed(0)} s</text></svg></figure>`;
}

/**
 * Writes `reports/<name>.json` and, with `page`, `reports/<name>.html` (targets as PASS/FAIL, plots,
 * the JSON). Returns the path of the page, or of the JSON without one.
 */
export function writeReport(
  name: string,
  summary: unknown,
  page?: { readonly title: string; readonly plots: readonly Plot[]; readonly targets?: readonly Target[] },
): string {
  mkdirSync(reports, { recursive: true });
  writeFileSync(join(reports, `${name}.json`), JSON.stringify(summary, null, 2));
  if (page === undefined) return `reports/${name}.json`;
  const targets = (page.targets ?? [])
    .map((t) => `<li>${t.pass ? 'PASS' : 'FAIL'} ${t.name} = ${t.value} (target ${t.target})</li>`)
    .join('');
  const html =
    `<!doctype html><meta charset="utf-8"><title>Amphi: ${page.title}</title><h1>${page.title}</h1>` +
    (targets === '' ? '' : `<ul>${targets}</ul>`) +
    page.plots.map(svgPlot).join('') +
    `<pre>${JSON.stringify(summary, null, 2).replaceAll('<', '&lt;')}</pre>`;
  writeFileSync(join(reports, `${name}.html`), html);
  return `reports/${name}.html`;
}
