import { checkNonNegative } from './config.js'
import type { ResidencyParams } from './residency.js'
import type { SimLatencyUpdate } from './types.js'

/**
 * The cost model: one forecast request holds its model for `fixed + perSeries × n` ms, plus
 * `coldStartMs` when the model must be loaded first (residency.ts decides when, from
 * `keepAliveMs`). Defaults (42 ms + 0.9 ms per series) reproduce a measured tollama 0.1.0 with its
 * mock model: 1 series ≈ 43 ms, 32 series ≈ 71 ms, 128 series ≈ 157 ms (measured 240 ms: the
 * daemon's per-series cost grows a little with the batch; linear is close enough for a simulator).
 * The mock model loads instantly, so cold starts are off by default.
 */
export class LatencyModel implements ResidencyParams {
  fixedMs: number
  perSeriesMs: number
  coldStartMs: number
  keepAliveMs: number

  constructor(fixedMs: number, perSeriesMs: number, coldStartMs: number, keepAliveMs: number) {
    this.fixedMs = fixedMs
    this.perSeriesMs = perSeriesMs
    this.coldStartMs = coldStartMs
    this.keepAliveMs = keepAliveMs
  }

  costMs(series: number): number {
    return this.fixedMs + this.perSeriesMs * series
  }

  /** Validates every field first, then applies: a bad update changes nothing; a field left out keeps its value. */
  update(l: SimLatencyUpdate): void {
    const fixed = l.fixedMs === undefined ? this.fixedMs : checkNonNegative('latency.fixedMs', l.fixedMs)
    const per = l.perSeriesMs === undefined ? this.perSeriesMs : checkNonNegative('latency.perSeriesMs', l.perSeriesMs)
    const cold = l.coldStartMs === undefined ? this.coldStartMs : checkNonNegative('latency.coldStartMs', l.coldStartMs)
    const keep = l.keepAliveMs === undefined ? this.keepAliveMs : checkNonNegative('latency.keepAliveMs', l.keepAliveMs)
    this.fixedMs = fixed
    this.perSeriesMs = per
    this.coldStartMs = cold
    this.keepAliveMs = keep
  }
}
