import type { ForecastRequest } from '../../src/request/types.js'

/**
 * A validated request as the supervisor sees it: the default profile (288 points of 5-minute
 * history, 12 steps, quantiles 0.1/0.5/0.9, logit transform) for market `m-<n>`.
 */
export function benchRequest(n: number, points = 288): ForecastRequest {
  const y = new Float64Array(points)
  const y_ts = new Float64Array(points)
  const end = 1_771_545_600_000 + n * 300_000
  for (let i = 0; i < points; i++) {
    y[i] = 0.5 + 0.3 * Math.sin((i + n) / 17)
    y_ts[i] = end - (points - 1 - i) * 300_000
  }
  return {
    market_id: `m-${n}`,
    as_of_ts: new Date(end).toISOString(),
    as_of_ms: end,
    freq: '5m',
    step_ms: 300_000,
    horizon_steps: 12,
    quantiles: [0.1, 0.5, 0.9],
    y,
    y_ts,
    y_ts_zoned: true,
    max_gap_minutes: null,
    x_past: {},
    x_future: {},
    transform: { space: 'logit', eps: 1e-6 },
    model: { provider: 'tollama', model_name: 'chronos2', model_version: null, params: {} },
    liquidity_bucket: 'high',
    category: 'politics',
    tte_bucket: '1d',
    rollout_stage: null,
  }
}
