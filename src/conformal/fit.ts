import { quote } from '../errors.js'
import type { ConformalAdjustment } from './adjustment.js'

/**
 * Fitting a conformal adjustment: the Python service's `calibration/conformal.py`
 * (`fit_conformal_adjustment`, `_empirical_quantile`, `_conformal_quantile_level`) in its order
 * of operations, so a state file fitted here and one fitted there agree to the last bit. Values
 * go through Float64Array and its numeric sort: the order is the one Python's `sorted` gives
 * (up to the sign of a zero), without boxing for the large calibration sets.
 */

/** One calibration pair: a past band and what the market then did. `median` null = none forecast. */
export interface CalibrationBand {
  readonly low: number
  readonly median: number | null
  readonly high: number
  readonly actual: number
}

/** Python's `min_half_width`: a band of zero width would divide by zero. */
export const MIN_HALF_WIDTH = 1e-6

/** The quantile of values already sorted ascending (non-empty). */
function sortedQuantile(ordered: Float64Array, quantile: number): number {
  if (quantile <= 0) return ordered[0]!
  if (quantile >= 1) return ordered[ordered.length - 1]!
  const rank = (ordered.length - 1) * quantile
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  if (lo === hi) return ordered[lo]!
  const weight = rank - lo
  return ordered[lo]! * (1 - weight) + ordered[hi]! * weight
}

/**
 * Python's `_empirical_quantile`: linear interpolation between the order statistics around
 * rank `(n − 1)·q`; `q ≤ 0` is the minimum, `q ≥ 1` the maximum. `values` is not modified.
 */
export function empiricalQuantile(values: ArrayLike<number>, quantile: number): number {
  if (values.length === 0) throw new RangeError('cannot compute a quantile of no values')
  return sortedQuantile(Float64Array.from(values).sort(), quantile)
}

/**
 * Python's `_conformal_quantile_level`: the split-conformal finite-sample level
 * `ceil((n + 1)·coverage) / n`, clipped to [0, 1] — slightly above the target, so that the
 * quantile of n calibration errors covers a fresh one with probability ≥ the target.
 */
export function conformalQuantileLevel(n: number, targetCoverage: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`the sample size should be an integer ≥ 1, got ${quote(n)}`)
  const level = Math.ceil((n + 1) * targetCoverage) / n
  return Math.max(0, Math.min(1, level))
}

/** Python's check on `target_coverage`, as a message naming it (null when valid). */
export function targetCoverageProblem(targetCoverage: number): string | null {
  return Number.isFinite(targetCoverage) && targetCoverage > 0 && targetCoverage <= 1 ? null : `target_coverage should be in (0, 1], got ${quote(targetCoverage)}`
}

/**
 * Python's `fit_conformal_adjustment`: the centre shift is the median residual; the width scale
 * is the conformal quantile of the errors around the shifted centre, in half-widths.
 */
export function fitAdjustment(pairs: readonly CalibrationBand[], targetCoverage: number): ConformalAdjustment {
  const problem = targetCoverageProblem(targetCoverage)
  if (problem !== null) throw new RangeError(problem)
  const n = pairs.length
  if (n === 0) throw new RangeError('at least one calibration pair is required')
  const centers = new Float64Array(n)
  const halfWidths = new Float64Array(n)
  const residuals = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const p = pairs[i]!
    const low = p.low <= p.high ? p.low : p.high
    const high = p.low <= p.high ? p.high : p.low
    const center = p.median === null ? (low + high) / 2 : p.median
    centers[i] = center
    halfWidths[i] = Math.max((high - low) / 2, MIN_HALF_WIDTH)
    residuals[i] = p.actual - center
  }
  const centerShift = sortedQuantile(residuals.sort(), 0.5)
  const errors = new Float64Array(n)
  for (let i = 0; i < n; i++) errors[i] = Math.abs(pairs[i]!.actual - (centers[i]! + centerShift)) / halfWidths[i]!
  const quantileLevel = conformalQuantileLevel(n, targetCoverage)
  const widthScale = sortedQuantile(errors.sort(), quantileLevel)
  // Finite inputs can still overflow (1e308 − −1e308); JSON would write the Infinity as null.
  if (!Number.isFinite(centerShift)) throw new RangeError(`center_shift came out ${quote(centerShift)}: the bands or actuals are too large`)
  if (!Number.isFinite(widthScale)) throw new RangeError(`width_scale came out ${quote(widthScale)}: the bands or actuals are too large`)
  return Object.freeze({ target_coverage: targetCoverage, quantile_level: quantileLevel, center_shift: centerShift, width_scale: widthScale, sample_size: n })
}
