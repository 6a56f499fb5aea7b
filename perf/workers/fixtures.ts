import type { BaselineJob, PostprocessJob } from '../../workers/protocol.js'

/** The default request shape: 288 points (a day of 5-minute prices), 3 quantiles × 12 steps. */
export const QUANTILES = [0.1, 0.5, 0.9]
export const HORIZON = 12

/** A day of prices with a trend, noise and a few plateaus, deterministic. */
export function series(n = 288, seed = 1): Float64Array {
  const y = new Float64Array(n)
  let s = seed
  let p = 0.4
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648
    if (i % 40 < 30) p += (s / 2147483648 - 0.48) * 0.01
    y[i] = Math.min(0.99, Math.max(0.01, p))
  }
  return y
}

/** An upstream answer in logit space with some crossings and a narrow step. */
export function upstreamLogits(seed = 1): Float64Array {
  const v = new Float64Array(QUANTILES.length * HORIZON)
  for (let h = 0; h < HORIZON; h++) {
    const c = -0.4 + 0.01 * h + 0.001 * seed
    v[h] = c - 0.3 - 0.02 * h
    v[HORIZON + h] = c
    v[2 * HORIZON + h] = h % 5 === 0 ? c - 0.01 : c + 0.3 + 0.02 * h
  }
  return v
}

export function postprocessJob(seed = 1): PostprocessJob {
  return { kind: 'postprocess', space: 'logit', quantiles: QUANTILES, horizon: HORIZON, values: upstreamLogits(seed), min_width: 0.02, max_width: 0.6 }
}

export function baselineJob(seed = 1, method: BaselineJob['method'] = 'EWMA'): BaselineJob {
  return {
    kind: 'baseline',
    method,
    space: 'logit',
    eps: 1e-6,
    quantiles: QUANTILES,
    horizon: HORIZON,
    y: series(288, seed),
    min_width: 0.02,
    max_width: 0.6,
    ewma_alpha: 0.2,
    rolling_window: 64,
  }
}
