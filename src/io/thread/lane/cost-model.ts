/**
 * What one upstream request costs a lane: `fixed + perSeries × n` ms for n series, learned from
 * the lane's own requests. tollama's shape (tollama-api.md, measured on this class of machine):
 * a fixed ~25–30 ms plus ~1.2 ms per series, one request at a time per model family — so the
 * cost of a batch, not of a job, is what predicts how long a queued job will wait.
 *
 * Learned by exponentially weighted least squares over (series, latency) samples: each sample
 * weighs 1 and every older one is discounted by `decay` (0.9: the last ~10 samples dominate, so a
 * slower upstream is followed within a few requests). Only samples that measured service time
 * are fed in: requests sent while the lane had nothing in flight (the lane's `observe` caller
 * decides), so our own queueing inside the upstream never inflates the model. With samples of
 * one size only, the slope cannot be told from the intercept: the per-series cost keeps its
 * previous value and the fixed part absorbs the rest. Until the first sample, the prior holds.
 */
export class CostModel {
  readonly #decay: number
  #w = 0
  #sn = 0
  #snn = 0
  #sr = 0
  #snr = 0
  #fixed: number
  #perSeries: number
  #samples = 0

  constructor(priorFixedMs: number, priorPerSeriesMs: number, decay = 0.9) {
    this.#fixed = priorFixedMs
    this.#perSeries = priorPerSeriesMs
    this.#decay = decay
  }

  get fixedMs(): number {
    return this.#fixed
  }

  get perSeriesMs(): number {
    return this.#perSeries
  }

  get samples(): number {
    return this.#samples
  }

  /** Predicted service time of one request of `series` series (ms). */
  costMs(series: number): number {
    return this.#fixed + this.#perSeries * series
  }

  /** One request of `series` series took `ms` with nothing of ours queued ahead of it. */
  observe(series: number, ms: number): void {
    if (!(ms >= 0) || !(series >= 1)) return
    const d = this.#decay
    this.#w = this.#w * d + 1
    this.#sn = this.#sn * d + series
    this.#snn = this.#snn * d + series * series
    this.#sr = this.#sr * d + ms
    this.#snr = this.#snr * d + series * ms
    this.#samples++
    const meanN = this.#sn / this.#w
    const meanR = this.#sr / this.#w
    const varN = this.#snn / this.#w - meanN * meanN
    // A spread of at least ~2 series between samples separates slope from intercept.
    if (varN > 4) {
      const slope = (this.#snr / this.#w - meanN * meanR) / varN
      if (slope >= 0 && Number.isFinite(slope)) this.#perSeries = slope
    }
    this.#fixed = Math.max(0, meanR - this.#perSeries * meanN)
  }
}
