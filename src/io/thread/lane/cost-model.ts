/**
 * What one upstream request costs a lane: `fixed + perSeries × n` ms for n series, learned from
 * the lane's own requests. tollama's shape (tollama-api.md, measured on this class of machine):
 * a fixed ~25–30 ms plus ~1.2 ms per series, one request at a time per model family — so the
 * cost of a batch, not of a job, is what predicts how long a queued job will wait.
 *
 * Learned by exponentially weighted least squares over (series, latency) samples: each sample
 * weighs 1 and every older one is discounted by `decay` (0.9: the last ~10 samples dominate, so a
 * slower upstream is followed within a few requests). Only samples that measured service time
 * are fed in: requests sent while the lane had nothing in flight (the caller decides), so our own
 * queueing inside the upstream never inflates the model.
 *
 * The slope is shrunk toward the prior's shape, scaled to the samples' level (ridge regression,
 * `RIDGE` series² of pseudo-spread: a spread of sizes over ~8 series outweighs it): samples of one size cannot tell the slope from the intercept,
 * and a free fit then went astray — measured after a 4× slowdown and recovery with every batch of
 * 32 series: 0 + 4.99 ms per series (a 67 ms request predicted at 160 ms) and, during the slowdown,
 * 220 + 1.17 (a 128-series batch predicted at 370 ms where it took 714). Scaling the prior's shape
 * to the level instead keeps a uniformly slower upstream uniformly slower (4× of 25 + 1.2 n), and
 * samples spread over many sizes still find the true slope.
 */
const RIDGE = 64

export class CostModel {
  readonly #decay: number
  readonly #priorFixed: number
  readonly #priorPerSeries: number
  #w = 0
  #sn = 0
  #snn = 0
  #sr = 0
  #snr = 0
  #fixed: number
  #perSeries: number
  #samples = 0

  constructor(priorFixedMs: number, priorPerSeriesMs: number, decay = 0.9) {
    this.#fixed = this.#priorFixed = priorFixedMs
    this.#perSeries = this.#priorPerSeries = priorPerSeriesMs
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
    if (!(ms >= 0) || !(series >= 1) || !Number.isFinite(ms)) return
    const d = this.#decay
    this.#w = this.#w * d + 1
    this.#sn = this.#sn * d + series
    this.#snn = this.#snn * d + series * series
    this.#sr = this.#sr * d + ms
    this.#snr = this.#snr * d + series * ms
    this.#samples++
    const meanN = this.#sn / this.#w
    const meanR = this.#sr / this.#w
    const varN = Math.max(0, this.#snn / this.#w - meanN * meanN)
    const cov = this.#snr / this.#w - meanN * meanR
    // The prior's shape at the samples' level: the slope the data is shrunk toward.
    const priorAtMean = this.#priorFixed + this.#priorPerSeries * meanN
    const anchor = priorAtMean > 0 ? (this.#priorPerSeries * meanR) / priorAtMean : this.#priorPerSeries
    let slope = (cov + RIDGE * anchor) / (varN + RIDGE)
    if (!(slope >= 0)) slope = 0
    let fixed = meanR - slope * meanN
    if (fixed < 0) {
      // All the cost in the per-series part: keep the mean exact.
      fixed = 0
      slope = meanR / meanN
    }
    this.#fixed = fixed
    this.#perSeries = slope
  }
}
