/**
 * Small statistics helpers for benchmarks: latency percentiles over a sample array, and rounding
 * for printing.
 */

/** Latency summary in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** The `q` quantile (0..1) of ascending-sorted `sorted` (nearest rank). */
export function quantile(sorted: Float64Array | readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** p50 / p99 / p99.9 / max of `samples` (milliseconds), which is sorted in place. */
export function summarize(samples: Float64Array): LatencySummary {
  samples.sort();
  return {
    count: samples.length,
    p50: round(quantile(samples, 0.5), 3),
    p99: round(quantile(samples, 0.99), 3),
    p999: round(quantile(samples, 0.999), 3),
    max: round(samples.length > 0 ? (samples[samples.length - 1] as number) : Number.NaN, 3),
  };
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
