import { checkNonNegative } from './config.js'
import type { SimLatencyUpdate } from './types.js'

/**
 * The latency model: one forecast request holds the model for `fixed + perSeries × n` ms.
 * Defaults (42 ms + 0.9 ms per series) reproduce a measured tollama 0.1.0 with its mock model:
 * 1 series ≈ 43 ms, 32 series ≈ 71 ms, 128 series ≈ 157 ms (measured 240 ms: the daemon's
 * per-series cost grows a little with the batch; linear is close enough for a simulator).
 */
export class LatencyModel {
  fixedMs: number
  perSeriesMs: number

  constructor(fixedMs: number, perSeriesMs: number) {
    this.fixedMs = fixedMs
    this.perSeriesMs = perSeriesMs
  }

  costMs(series: number): number {
    return this.fixedMs + this.perSeriesMs * series
  }

  /** Validates then applies; a field left out keeps its value. */
  update(l: SimLatencyUpdate): void {
    const fixed = l.fixedMs === undefined ? this.fixedMs : checkNonNegative('latency.fixedMs', l.fixedMs)
    const per = l.perSeriesMs === undefined ? this.perSeriesMs : checkNonNegative('latency.perSeriesMs', l.perSeriesMs)
    this.fixedMs = fixed
    this.perSeriesMs = per
  }
}
