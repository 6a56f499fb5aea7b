import { adjustedHigh, adjustedLow } from '../../../src/conformal/adjusted-bounds.js'
import type { ConformalAdjustment } from '../../../src/conformal/adjustment.js'
import { CoverageWindow } from '../../../src/conformal/coverage-window.js'
import { OnlineCalibrator } from '../../../src/conformal/online.js'
import type { OnlineCalibrationConfig } from '../../../src/conformal/online-config.js'
import { ServedBands } from '../../../src/conformal/served-bands.js'
import { fitConformal, type Sample } from '../../helpers/conformal-fit.js'
import { NormalStream } from '../../helpers/normal-stream.js'

/**
 * The drift stream: one segment, a raw band of fixed half-width 0.05 around a centre
 * drawn in [0.3, 0.7], realised value = centre + 0.005 bias + noise whose scale doubles
 * (0.03 → 0.06) half-way. Bands are served (and recorded with the adjustment in force) `lag`
 * outcomes before they resolve, one outcome per simulated second, and resolve through
 * ServedBands → CoverageWindow (the served band) → OnlineCalibrator, as the runner wires them.
 */
export const SEGMENT = 'category=crypto'
export const TARGET = 0.8
const HALF = 0.05
const T0 = 1_700_000_000_000

export interface DriftRun {
  /** Rolling coverage (window 500) of the served bands after each outcome. */
  readonly coverage: Float64Array
  /** Rolling mean served width after each outcome. */
  readonly width: Float64Array
  /** Each outcome's served width. */
  readonly served: Float64Array
  readonly shiftAt: number
  readonly calibrator: OnlineCalibrator | null
  readonly bands: ServedBands
}

function draw(rng: NormalStream, t: number, shiftAt: number): Sample {
  const center = 0.3 + 0.4 * rng.uniform()
  const sigma = t < shiftAt ? 0.03 : 0.06
  return { low: center - HALF, center, high: center + HALF, y: center + 0.005 + sigma * rng.normal() }
}

/** The static file: fitted (Python's fit) to a first-half sample of the same stream. */
export function staticAdjustment(seed: number, n = 10_000): ConformalAdjustment {
  const rng = new NormalStream(seed ^ 0x5bd1e995)
  const samples: Sample[] = []
  for (let t = 0; t < n; t++) samples.push(draw(rng, t, Infinity))
  return fitConformal(samples, TARGET)
}

export function simulate(seed: number, online: boolean, options: { outcomes?: number; lag?: number; config?: Partial<OnlineCalibrationConfig> } = {}): DriftRun {
  const outcomes = options.outcomes ?? 20_000
  const lag = options.lag ?? 50
  const shiftAt = outcomes / 2
  const file = staticAdjustment(seed)
  const calibrator = online
    ? new OnlineCalibrator({ default: file, segments: new Map([[SEGMENT, file]]), segmentFields: ['category'], updatedAt: null, metadata: {}, schemaVersion: 2 }, options.config)
    : null
  const bands = new ServedBands({ maxEntries: 4 * lag, graceMs: 60_000 })
  const window = new CoverageWindow({ window: 500 })
  const coverage = new Float64Array(outcomes)
  const width = new Float64Array(outcomes)
  const served = new Float64Array(outcomes)
  const rng = new NormalStream(seed)
  const pending: Sample[] = []
  for (let t = 0; t < outcomes + lag; t++) {
    const now = T0 + t * 1000
    if (t < outcomes) {
      const s = draw(rng, t, shiftAt)
      pending.push(s)
      const adj = calibrator === null ? file : calibrator.adjustmentFor(SEGMENT)
      bands.record(`m${t % 997}`, String(t), now + lag * 1000, SEGMENT, s.low, s.center, s.high, adj, now)
    }
    const r = t - lag
    if (r < 0) continue
    const s = pending[r] as Sample
    const band = bands.take(`m${r % 997}`, String(r), now)
    if (band === null) throw new Error(`band ${r} was not matched`)
    const low = adjustedLow(band.low, band.center, band.high, band.applied)
    const high = adjustedHigh(band.low, band.center, band.high, band.applied)
    window.add(band.segmentKey, low, high, s.y)
    served[r] = high - low
    calibrator?.observe(band.segmentKey, band.low, band.center, band.high, s.y)
    coverage[r] = window.coverage(SEGMENT)
    width[r] = window.meanWidth(SEGMENT)
  }
  return { coverage, width, served, shiftAt, calibrator, bands }
}

/** The first outcome from which rolling coverage stays within ±tolerance of the target to the end. */
export function settledFrom(coverage: Float64Array, from: number, tolerance: number): number {
  let settled = coverage.length
  for (let t = coverage.length - 1; t >= from; t--) {
    if (Math.abs((coverage[t] as number) - TARGET) > tolerance) break
    settled = t
  }
  return settled
}
