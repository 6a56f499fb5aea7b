/**
 * Latency summaries for the load benchmarks. Percentiles are nearest-rank on the sorted sample
 * (p-th = the ⌈p/100 · n⌉-th smallest value): every reported figure is a latency that one
 * request really had, never an interpolation between two.
 */

export interface Percentiles {
  readonly count: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

export const EMPTY_PERCENTILES: Percentiles = Object.freeze({ count: 0, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN })

/** Nearest-rank percentile of an ascending sample; NaN for an empty one. */
export function rank(sorted: Float64Array, p: number): number {
  const n = sorted.length
  if (n === 0) return Number.NaN
  const i = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))
  return sorted[i] as number
}

export function percentiles(values: Float64Array | readonly number[]): Percentiles {
  if (values.length === 0) return EMPTY_PERCENTILES
  const sorted = Float64Array.from(values).sort()
  let sum = 0
  for (let i = 0; i < sorted.length; i++) sum += sorted[i] as number
  return {
    count: sorted.length,
    p50: rank(sorted, 50),
    p95: rank(sorted, 95),
    p99: rank(sorted, 99),
    max: sorted[sorted.length - 1] as number,
    mean: sum / sorted.length,
  }
}

/** Median of a few run-level figures (the gate's statistic: it resists one noisy run). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** Round for reports: 3 significant decimals below 10, fewer above. */
export function round(ms: number): number {
  if (!Number.isFinite(ms)) return ms
  const a = Math.abs(ms)
  const f = a < 10 ? 1000 : a < 1000 ? 100 : 10
  return Math.round(ms * f) / f
}
