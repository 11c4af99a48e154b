/** Readings from a Prometheus scrape of Amphi's /metrics. */

/** `amphi_...{label="x"} value` lines of a scrape, summed by a label's value. */
export function scrape(text: string, metric: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const re = new RegExp(`^${metric}\\{([^}]*)\\} ([\\d.e+-]+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const value = new RegExp(`${label}="([^"]*)"`).exec(m[1]!)?.[1] ?? '';
    out[value] = (out[value] ?? 0) + Number(m[2]);
  }
  return out;
}

/** The value of an unlabelled metric (a gauge), or NaN when the scrape has none. */
export function gauge(text: string, metric: string): number {
  return Number(new RegExp(`^${metric} ([\\d.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
}
