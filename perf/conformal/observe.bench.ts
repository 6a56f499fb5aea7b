/**
 * The cost of one realised outcome (issue 11: ≤ 5 µs per outcome, embedded): ServedBands.take
 * (with the record that keeps 40 000 bands in flight, as a steady stream of forecasts does),
 * OnlineCalibrator.observe (ACI step, ring write, a refit of a 500-outcome window every 16th
 * outcome) and CoverageWindow.add — against the same path with a naive calibrator that keeps
 * its window in a plain array and sorts it on every outcome. Then the parts: observe with the
 * refit every outcome, the window quantile by quickselect and by sort, and adjustmentFor on the
 * forecast path. Run: node dist/perf/conformal/observe.bench.js
 */
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import { adjustedHigh, adjustedLow } from '../../src/conformal/adjusted-bounds.js'
import type { ConformalAdjustment } from '../../src/conformal/adjustment.js'
import { CoverageWindow } from '../../src/conformal/coverage-window.js'
import { OnlineCalibrator } from '../../src/conformal/online.js'
import { ServedBands } from '../../src/conformal/served-bands.js'
import type { ConformalState } from '../../src/conformal/state-file.js'
import { windowQuantile } from '../../src/conformal/window-quantile.js'
import { saveConformalResults } from './results.js'

const IN_FLIGHT = 40_000
const MARKETS = 2_000
const SEGMENTS = ['category=crypto', 'category=sports', 'category=politics', 'category=economy', 'liquidity_bucket=high', 'liquidity_bucket=low', 'tte_bucket=short', 'tte_bucket=long']
const FILE_ADJ: ConformalAdjustment = Object.freeze({ target_coverage: 0.8, quantile_level: 0.802, center_shift: 0, width_scale: 1, sample_size: 500 })
const STATE: ConformalState = { default: FILE_ADJ, segments: new Map(SEGMENTS.map((s) => [s, FILE_ADJ])), segmentFields: ['category'], updatedAt: null, metadata: {}, schemaVersion: 2 }

// Outcomes drawn up front (a ring of 4 096), so the loops measure the structures, not the draws.
const N = 4096
const centers = new Float64Array(N)
const realized = new Float64Array(N)
let seed = 12345
const uniform = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296)
for (let i = 0; i < N; i++) {
  centers[i] = 0.3 + 0.4 * uniform()
  // a sum of four uniforms: near-normal, σ ≈ 0.035
  realized[i] = (centers[i] as number) + 0.12 * (uniform() + uniform() + uniform() + uniform() - 2)
}
const marketIds = Array.from({ length: MARKETS }, (_, i) => `0x${(0x9e3779b9 * (i + 1)).toString(16)}-market`)
const T0 = 1_700_000_000_000
const HORIZON_MS = 3_600_000
const asOf = (i: number): string => new Date(T0 + Math.floor(i / MARKETS) * 60_000).toISOString()
// as_of_ts strings precomputed for the stream too (the HTTP layer has them as strings already).
const AS_OF = Array.from({ length: 1 << 16 }, (_, i) => asOf(i))

/** The naive calibrator: the same update, its window an array, sorted twice on every outcome. */
class NaiveCalibrator {
  alpha = 0.2
  readonly residuals: number[] = []
  readonly halves: number[] = []
  adj: ConformalAdjustment = FILE_ADJ
  observe(low: number, center: number, high: number, y: number): boolean {
    const half = (high - low) / 2
    const c2 = center + this.adj.center_shift
    const h2 = half * this.adj.width_scale
    const covered = y >= c2 - h2 && y <= c2 + h2
    this.alpha = Math.min(0.999, Math.max(0.001, this.alpha + 0.01 * (0.2 - (covered ? 0 : 1))))
    this.residuals.push(y - center)
    this.halves.push(Math.max(half, 1e-6))
    if (this.residuals.length > 500) {
      this.residuals.shift()
      this.halves.shift()
    }
    const n = this.residuals.length
    const sortedR = [...this.residuals].sort((a, b) => a - b)
    const shift = sortedR[n >> 1] as number
    const scores = this.residuals.map((r, i) => Math.abs(r - shift) / (this.halves[i] as number)).sort((a, b) => a - b)
    const scale = scores[Math.min(n - 1, Math.ceil((n + 1) * (1 - this.alpha)) - 1)] as number
    this.adj = { ...this.adj, center_shift: shift, width_scale: scale }
    return covered
  }
}

function pipeline(naive: boolean, inFlight = IN_FLIGHT) {
  const bands = new ServedBands({ maxEntries: 50_000 })
  const calibrator = new OnlineCalibrator(STATE)
  const naives = SEGMENTS.map(() => new NaiveCalibrator())
  const coverage = new CoverageWindow()
  let now = T0
  let next = 0
  const record = (i: number): void => {
    const k = i & (N - 1)
    const c = centers[k] as number
    bands.record(marketIds[i % MARKETS] as string, AS_OF[i & 0xffff] as string, now + HORIZON_MS, SEGMENTS[i & 7] as string, c - 0.05, c, c + 0.05, calibrator.adjustmentFor(SEGMENTS[i & 7] as string), now)
  }
  for (; next < inFlight; next++) record(next)
  // Warm every window so the measured outcomes refit over full 500-value windows.
  for (let i = 0; i < 8 * 600; i++) {
    const k = i & (N - 1)
    const c = centers[k] as number
    calibrator.observe(SEGMENTS[i & 7] as string, c - 0.05, c, c + 0.05, realized[k] as number)
    ;(naives[i & 7] as NaiveCalibrator).observe(c - 0.05, c, c + 0.05, realized[k] as number)
  }
  let taken = 0
  /** One outcome: the band of `taken` resolves; one more forecast keeps `inFlight` in flight. */
  return (): boolean => {
    now += 1
    record(next++)
    const i = taken++
    const band = bands.take(marketIds[i % MARKETS] as string, AS_OF[i & 0xffff] as string, now)
    if (band === null) throw new Error(`outcome ${i} unmatched`)
    const y = realized[i & (N - 1)] as number
    coverage.add(band.segmentKey, adjustedLow(band.low, band.center, band.high, band.applied), adjustedHigh(band.low, band.center, band.high, band.applied), y)
    if (naive) return (naives[i & 7] as NaiveCalibrator).observe(band.low, band.center as number, band.high, y)
    return calibrator.observe(band.segmentKey, band.low, band.center, band.high, y)
  }
}

const shipped = pipeline(false)
const naive = pipeline(true)
const shippedFew = pipeline(false, 1_000)

group('one outcome: take + observe + coverage add (+ the record that keeps 40 000 bands in flight)', () => {
  summary(() => {
    bench('ServedBands + OnlineCalibrator (refit every 16) + CoverageWindow (shipped)', () => do_not_optimize(shipped()))
    bench('same, naive calibrator (array window, sorted every outcome)', () => do_not_optimize(naive()))
  })
  // The bands in flight cost cache misses (Map, heap, strings): the same path with 1 000.
  bench('shipped, 1 000 bands in flight', () => do_not_optimize(shippedFew()))
})

function observeOnly(recomputeEvery: number) {
  const cal = new OnlineCalibrator(STATE, { recomputeEvery })
  for (let i = 0; i < 600; i++) cal.observe(null, (centers[i] as number) - 0.05, centers[i] as number, (centers[i] as number) + 0.05, realized[i] as number)
  let i = 0
  return (): boolean => {
    const k = i++ & (N - 1)
    const c = centers[k] as number
    return cal.observe(null, c - 0.05, c, c + 0.05, realized[k] as number)
  }
}
const every16 = observeOnly(16)
const every1 = observeOnly(1)

group('OnlineCalibrator.observe alone, 500-outcome window', () => {
  summary(() => {
    bench('refit every 16th outcome (shipped)', () => do_not_optimize(every16()))
    bench('refit every outcome (quickselect)', () => do_not_optimize(every1()))
  })
})

const window = Float64Array.from({ length: 500 }, (_, i) => Math.abs((realized[i] as number) - (centers[i] as number)) / 0.05)
const scratch = new Float64Array(500)
group('the 0.802 quantile of a 500-value window (Python interpolation)', () => {
  summary(() => {
    bench('copy + quickselect (windowQuantile)', () => {
      scratch.set(window)
      return do_not_optimize(windowQuantile(scratch, 500, 0.802))
    })
    bench('copy + Float64Array sort', () => {
      scratch.set(window)
      scratch.sort()
      const rank = 499 * 0.802
      const lo = Math.floor(rank)
      return do_not_optimize((scratch[lo] as number) * (1 - (rank - lo)) + (scratch[lo + 1] as number) * (rank - lo))
    })
  })
})

const reader = new OnlineCalibrator(STATE)
let r = 0
group('adjustmentFor on the forecast path', () => {
  bench('OnlineCalibrator.adjustmentFor(segment key)', () => do_not_optimize(reader.adjustmentFor(SEGMENTS[r++ & 7] as string)))
})

const { benchmarks } = await run()
const perOutcome = benchmarks.flatMap((t) => t.runs).find((x) => x.name.endsWith('(shipped)') && x.name.startsWith('ServedBands'))
if (perOutcome?.stats) console.log(`one outcome, shipped: ${(perOutcome.stats.avg / 1000).toFixed(2)} µs (target ≤ 5 µs)`)
console.log('saved to', saveConformalResults(benchmarks, { in_flight: IN_FLIGHT, window: 500, recompute_every: 16 }))
