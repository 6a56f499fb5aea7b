import type { TsfmConfig } from '../config/types.js'
import type { ForecastRequest } from '../request/types.js'
import type { BandResult, MathPort } from '../supervisor/ports.js'
import { computeJob } from '../../workers/compute.js'
import type { BaselineJob, MathPool, PostprocessJob } from './math-pool.js'

/**
 * The supervisor's view of the math pool: requests in, jobs out. Baselines use the same last
 * `input_len_steps` points that would have gone upstream (as the Python service does).
 */
export class PoolMathPort implements MathPort {
  readonly #pool: MathPool
  readonly #config: TsfmConfig

  constructor(pool: MathPool, config: TsfmConfig) {
    this.#pool = pool
    this.#config = config
  }

  tryBaseline(req: ForecastRequest): BandResult | null {
    const r = this.#pool.tryInline(baselineJob(req, this.#config))
    return r === null ? null : toBand(r)
  }

  baseline(ticket: number, req: ForecastRequest): void {
    this.#pool.submitBaseline(ticket, baselineJob(req, this.#config))
  }

  postprocess(ticket: number, req: ForecastRequest, values: Float64Array): void {
    this.#pool.submitPostprocess(ticket, postprocessJob(req, values, this.#config))
  }

  baselineNow(req: ForecastRequest): BandResult {
    return toBand(computeJob(baselineJob(req, this.#config)))
  }
}

export function baselineJob(req: ForecastRequest, config: TsfmConfig): BaselineJob {
  const n = req.y.length
  const len = Math.min(n, config.input_len_steps)
  return {
    kind: 'baseline',
    method: config.fallback.baseline_method,
    space: req.transform.space,
    eps: req.transform.eps,
    quantiles: req.quantiles,
    horizon: req.horizon_steps,
    y: len === n ? req.y : req.y.subarray(n - len),
    min_width: config.interval_sanity.min_width,
    max_width: config.interval_sanity.max_width,
    ewma_alpha: config.fallback.ewma_alpha,
    rolling_window: config.fallback.rolling_window,
  }
}

export function postprocessJob(req: ForecastRequest, values: Float64Array, config: TsfmConfig): PostprocessJob {
  return {
    kind: 'postprocess',
    space: req.transform.space,
    quantiles: req.quantiles,
    horizon: req.horizon_steps,
    values,
    min_width: config.interval_sanity.min_width,
    max_width: config.interval_sanity.max_width,
  }
}

const EMPTY = new Float64Array(0)

export function toBand(r: { ok: boolean; values: Float64Array | null; warnings: number }): BandResult {
  return r.ok ? { ok: true, values: r.values as Float64Array, warnings: r.warnings } : { ok: false, values: EMPTY, warnings: 0 }
}
