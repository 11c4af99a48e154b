/** Quantiles as every bench reports them: nearest rank, rounded down, 0 without samples. */

/** The index of quantile `p` among `n` ascending samples (-1 when there are none). */
export function quantileRank(p: number, n: number): number {
  return Math.min(n - 1, Math.floor(p * n));
}

/** Quantile `p` of `sorted` (ascending), or 0 when it is empty. */
export function quantile(sorted: readonly number[], p: number): number {
  return sorted[quantileRank(p, sorted.length)] ?? 0;
}

export interface Quantiles {
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly samples: number;
}

/** p50, p95 and max of `values` (sorted in place), rounded to `digits` decimals. */
export function quantiles(values: number[], digits = 1): Quantiles {
  const sorted = values.sort((a, b) => a - b);
  const f = 10 ** digits;
  const round = (v: number) => Math.round(v * f) / f;
  return {
    p50: round(quantile(sorted, 0.5)),
    p95: round(quantile(sorted, 0.95)),
    max: round(sorted.at(-1) ?? 0),
    samples: sorted.length,
  };
}
