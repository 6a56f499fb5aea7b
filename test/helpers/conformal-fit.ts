import type { ConformalAdjustment } from '../../src/conformal/adjustment.js'

/**
 * The Python service's `fit_conformal_adjustment` written out naively (sorted copies, no
 * bounds): the reference the online refit and the drift test's static file are checked against.
 */
export function pythonQuantile(values: readonly number[], q: number): number {
  const ordered = [...values].sort((x, y) => x - y)
  if (q <= 0) return ordered[0] as number
  if (q >= 1) return ordered[ordered.length - 1] as number
  const rank = (ordered.length - 1) * q
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  if (lo === hi) return ordered[lo] as number
  const w = rank - lo
  return (ordered[lo] as number) * (1 - w) + (ordered[hi] as number) * w
}

export interface Sample {
  readonly low: number
  readonly center: number
  readonly high: number
  readonly y: number
}

export function fitConformal(samples: readonly Sample[], targetCoverage: number): ConformalAdjustment {
  const shift = pythonQuantile(
    samples.map((s) => s.y - s.center),
    0.5,
  )
  const scores = samples.map((s) => Math.abs(s.y - s.center - shift) / Math.max((s.high - s.low) / 2, 1e-6))
  const n = samples.length
  const level = Math.max(0, Math.min(1, Math.ceil((n + 1) * targetCoverage) / n))
  return Object.freeze({ target_coverage: targetCoverage, quantile_level: level, center_shift: shift, width_scale: pythonQuantile(scores, level), sample_size: n })
}
