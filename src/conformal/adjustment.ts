/**
 * A conformal adjustment of a forecast band (the Python service's `calibration/conformal.py`,
 * `ConformalAdjustment` / `apply_conformal_adjustment`): the band's centre moves by
 * `center_shift` and its half-width is multiplied by `width_scale`, both learned from how often
 * past bands covered what markets then did.
 */

export interface ConformalAdjustment {
  readonly target_coverage: number
  readonly quantile_level: number
  readonly center_shift: number
  readonly width_scale: number
  readonly sample_size: number
}

/** `conformal_last_step` of an answer: the adjusted last step of the band and what adjusted it. */
export interface ConformalLastStep {
  readonly q10: number
  readonly q50: number
  readonly q90: number
  readonly band_calibration: 'conformal'
  readonly conformal_target_coverage: number
  readonly conformal_quantile_level: number
  readonly conformal_center_shift: number
  readonly conformal_width_scale: number
}

function clip01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v
}

/**
 * Adjust one band `(low, center, high)`; `center` null means none was forecast (the midpoint
 * stands in, as in the Python service). Exactly the Python service's arithmetic, in its order,
 * so the results agree to the last bit: `lo,hi` swapped if crossed, `h = (hi − lo)/2`,
 * `c' = c + shift`, `h' = h·scale`, then `c' − h'`, `c'`, `c' + h'` each clipped to [0, 1].
 * No minimum-width guard: a `width_scale` below 1 can narrow the band below
 * `interval_sanity.min_width` (the Python service does the same; README, Conformal).
 */
export function adjustBand(low: number, center: number | null, high: number, a: ConformalAdjustment): ConformalLastStep {
  let lo = low
  let hi = high
  if (lo > hi) {
    lo = high
    hi = low
  }
  const c = center === null ? (lo + hi) / 2 : center
  const half = (hi - lo) / 2
  const c2 = c + a.center_shift
  const h2 = half * a.width_scale
  return {
    q10: clip01(c2 - h2),
    q50: clip01(c2),
    q90: clip01(c2 + h2),
    band_calibration: 'conformal',
    conformal_target_coverage: a.target_coverage,
    conformal_quantile_level: a.quantile_level,
    conformal_center_shift: a.center_shift,
    conformal_width_scale: a.width_scale,
  }
}
