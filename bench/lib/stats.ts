// Percentiles over raw samples (nearest rank on a sorted copy): no histogram, no bucketing error.

export interface Percentiles {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** Nearest-rank percentile of an ascending array, `q` in (0, 1]. */
export function rank(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Summary of samples (any unit); sorts `samples` in place. */
export function percentiles(samples: Float64Array): Percentiles {
  samples.sort();
  let sum = 0;
  for (const v of samples) sum += v;
  return {
    count: samples.length,
    mean: samples.length === 0 ? Number.NaN : sum / samples.length,
    p50: rank(samples, 0.5),
    p90: rank(samples, 0.9),
    p99: rank(samples, 0.99),
    p999: rank(samples, 0.999),
    max: samples.length === 0 ? Number.NaN : samples[samples.length - 1]!,
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
