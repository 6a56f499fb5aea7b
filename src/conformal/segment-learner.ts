import type { ConformalAdjustment } from './adjustment.js'
import { aciStep } from './aci.js'
import { adjustedHigh, adjustedLow } from './adjusted-bounds.js'
import type { OnlineCalibrationConfig } from './online-config.js'
import { conformalQuantileLevel, windowQuantile } from './window-quantile.js'

/** The Python fit's floor on a half-width (`min_half_width`), so a point band scores finitely. */
const MIN_HALF_WIDTH = 1e-6
const EMPTY = new Float64Array(0)

/**
 * One segment's online adjustment. Every outcome moves the working miscoverage level α_t
 * (ACI, aci.ts) by whether the band the current adjustment makes covered it, and lands in a
 * ring of the last `window` (residual y − c, half-width) pairs. Every `recomputeEvery` outcomes,
 * once `minSamples` have been seen, the shift and scale are refitted to the ring exactly as the
 * Python service's `fit_conformal_adjustment` fits a calibration set, with coverage 1 − α_t
 * instead of the fixed target: shift = median residual, scale = the finite-sample
 * `1 − α_t` quantile of |y − (c + shift)| / max(h, 1e-6). Both clipped to their bounds.
 *
 * The refit is periodic rather than per outcome because it is O(window) (a quickselect); the
 * adjustment object is replaced only when a refit changes it, so readers can hold it.
 */
export class SegmentLearner {
  /** The adjustment in force: the state file's until the first refit, then the latest refit. */
  current: ConformalAdjustment
  /** Working miscoverage level α_t. */
  alpha: number
  /** Outcomes seen since start. */
  observed = 0
  readonly #config: OnlineCalibrationConfig
  /** α = 1 − target coverage of the file's adjustment. */
  readonly #alphaTarget: number
  readonly #target: number
  /** Allocated on the first outcome (empty until then). */
  #residuals = EMPTY
  #halves = EMPTY
  #next = 0
  #filled = 0
  #sinceRefit = 0

  constructor(start: ConformalAdjustment, config: OnlineCalibrationConfig) {
    this.current = start
    this.#config = config
    this.#target = start.target_coverage
    this.#alphaTarget = 1 - start.target_coverage
    // ACI starts at α (α_1 = α in the paper); the file's quantile_level is a finite-sample level
    // of its own fit, not a working level to resume from.
    this.alpha = clip(this.#alphaTarget, config.alphaMin, config.alphaMax)
  }

  /**
   * One outcome of a raw band (`low`, `center` or null for the midpoint, `high`) and its
   * realised value. Returns whether the band the current adjustment makes of it covered `y`
   * (a refit may replace `current` afterwards). `scratch` is the caller's Float64Array of at
   * least `window` values, clobbered by a refit.
   */
  observe(low: number, center: number | null, high: number, y: number, scratch: Float64Array): boolean {
    let lo = low
    let hi = high
    if (lo > hi) {
      lo = high
      hi = low
    }
    const c = center === null ? (lo + hi) / 2 : center
    const half = (hi - lo) / 2
    // The band as adjustBand serves it now (adjusted-bounds.ts: the same arithmetic to the bit).
    const a = this.current
    const covered = y >= adjustedLow(low, center, high, a) && y <= adjustedHigh(low, center, high, a)
    const cfg = this.#config
    this.alpha = aciStep(this.alpha, this.#alphaTarget, cfg.gamma, !covered, cfg.alphaMin, cfg.alphaMax)

    if (this.#residuals === EMPTY) {
      this.#residuals = new Float64Array(cfg.window)
      this.#halves = new Float64Array(cfg.window)
    }
    this.#residuals[this.#next] = y - c
    this.#halves[this.#next] = half > MIN_HALF_WIDTH ? half : MIN_HALF_WIDTH
    this.#next = this.#next + 1 === cfg.window ? 0 : this.#next + 1
    if (this.#filled < cfg.window) this.#filled++
    this.observed++
    this.#sinceRefit++
    if (this.#filled >= cfg.minSamples && (this.observed === cfg.minSamples || this.#sinceRefit >= cfg.recomputeEvery)) {
      this.#sinceRefit = 0
      this.#refit(scratch)
    }
    return covered
  }

  /** Refit shift and scale to the ring; `current` is replaced only if either moved. */
  #refit(scratch: Float64Array): void {
    const cfg = this.#config
    const n = this.#filled
    const residuals = this.#residuals
    const halves = this.#halves
    // The ring's first n slots hold the data whether or not it has wrapped.
    for (let i = 0; i < n; i++) scratch[i] = residuals[i] as number
    const shift = clip(windowQuantile(scratch, n, 0.5), -cfg.maxShift, cfg.maxShift)
    for (let i = 0; i < n; i++) scratch[i] = Math.abs((residuals[i] as number) - shift) / (halves[i] as number)
    const level = conformalQuantileLevel(n, 1 - this.alpha)
    const scale = clip(windowQuantile(scratch, n, level), cfg.minScale, cfg.maxScale)
    const a = this.current
    if (a.center_shift === shift && a.width_scale === scale && a.quantile_level === level && a.sample_size === n) return
    this.current = Object.freeze({ target_coverage: this.#target, quantile_level: level, center_shift: shift, width_scale: scale, sample_size: n })
  }
}

function clip(v: number, min: number, max: number): number {
  return v < min ? min : v > max ? max : v
}
