/**
 * Knobs of the online conformal update (OnlineCalibrator, SegmentLearner). Defaults are chosen
 * by the drift simulation (test/unit/conformal/drift.test.ts) and the observe benchmark
 * (perf/conformal/observe.bench.ts); see each field.
 */
export interface OnlineCalibrationConfig {
  /**
   * ACI step γ: how far the working miscoverage level moves per outcome (Gibbs & Candès use
   * 0.005). Measured on the drift stream (seeds 1–8, from 2 000 outcomes after the noise
   * doubles): the share of outcomes whose 500-outcome coverage is within ±3 % of 80 % is
   * 89–99 % at 0.005, 93–100 % at 0.01, 96–100 % at 0.02, while the served width's spread
   * (sd, around 0.154) grows 0.009–0.012 → 0.011–0.015 → 0.016–0.019. 0.01 is the middle.
   */
  readonly gamma: number
  /** Outcomes per segment that the shift and scale are fitted to (a ring). */
  readonly window: number
  /** A segment keeps its state-file adjustment until it has seen this many outcomes. */
  readonly minSamples: number
  /**
   * Refit the shift and scale every this many outcomes (the working level moves every outcome).
   * A refit of a 500-value window is two quickselects and two passes, ~7.5 µs: observe costs
   * ~8.3 µs refitting every outcome and ~0.8 µs refitting every 16th (perf/conformal), inside
   * the 5 µs per outcome with ServedBands and CoverageWindow; 16 outcomes of lag are
   * small beside the ~1/γ = 100 over which the working level moves.
   */
  readonly recomputeEvery: number
  /** Bounds of the learned width scale (a file's own value is used as is until `minSamples`). */
  readonly minScale: number
  readonly maxScale: number
  /** Bound of the learned centre shift, in probability units (±). */
  readonly maxShift: number
  /** Bounds of the working miscoverage level α_t. */
  readonly alphaMin: number
  readonly alphaMax: number
  /**
   * Segment keys that may get their own adjustment on first outcome although the state file
   * has none (others update the default). Exact match, as the file's keys.
   */
  readonly createSegments: readonly string[]
  /**
   * At most this many segments are created (`createSegments` keys met in outcomes); a further
   * new key updates the default. The file's own segments all learn (the file bounds them).
   */
  readonly maxCreatedSegments: number
}

export const ONLINE_DEFAULTS: OnlineCalibrationConfig = Object.freeze({
  gamma: 0.01,
  window: 500,
  minSamples: 200,
  recomputeEvery: 16,
  minScale: 0.1,
  maxScale: 10,
  maxShift: 0.1,
  alphaMin: 0.001,
  alphaMax: 0.999,
  createSegments: Object.freeze([]) as readonly string[],
  maxCreatedSegments: 64,
})

/** Defaults overlaid with `partial`; throws RangeError naming the first knob out of range. */
export function onlineConfig(partial: Partial<OnlineCalibrationConfig> = {}): OnlineCalibrationConfig {
  const c: OnlineCalibrationConfig = { ...ONLINE_DEFAULTS, ...partial }
  const check = (ok: boolean, what: string, v: unknown): void => {
    if (!ok) throw new RangeError(`online conformal ${what}, got ${String(v)}`)
  }
  check(c.gamma > 0 && c.gamma < 1, 'gamma should be in (0, 1)', c.gamma)
  check(Number.isInteger(c.window) && c.window >= 2, 'window should be an integer ≥ 2', c.window)
  check(Number.isInteger(c.minSamples) && c.minSamples >= 1 && c.minSamples <= c.window, `minSamples should be an integer in [1, window=${c.window}]`, c.minSamples)
  check(Number.isInteger(c.recomputeEvery) && c.recomputeEvery >= 1, 'recomputeEvery should be an integer ≥ 1', c.recomputeEvery)
  check(c.minScale >= 0 && c.maxScale >= c.minScale && Number.isFinite(c.maxScale), 'scale bounds should satisfy 0 ≤ minScale ≤ maxScale < ∞', `${c.minScale}..${c.maxScale}`)
  check(c.maxShift >= 0 && Number.isFinite(c.maxShift), 'maxShift should be a finite number ≥ 0', c.maxShift)
  check(c.alphaMin > 0 && c.alphaMax < 1 && c.alphaMin <= c.alphaMax, 'alpha bounds should satisfy 0 < alphaMin ≤ alphaMax < 1', `${c.alphaMin}..${c.alphaMax}`)
  check(Number.isInteger(c.maxCreatedSegments) && c.maxCreatedSegments >= 0, 'maxCreatedSegments should be an integer ≥ 0', c.maxCreatedSegments)
  return Object.freeze({ ...c, createSegments: Object.freeze([...c.createSegments]) })
}
