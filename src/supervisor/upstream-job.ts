import type { TsfmConfig } from '../config/types.js'
import type { UpstreamJob } from '../io/types.js'
import type { ForecastRequest } from '../request/types.js'

/**
 * The I/O actor's job for a flight: the last `input_len_steps` points (views — the I/O host
 * copies them into the buffer it transfers), the shared deadline, and the mode's attempt
 * timeout and retry allowance.
 */
export function upstreamJob(
  req: ForecastRequest,
  ticket: number,
  deadline: number,
  attemptTimeoutMs: number,
  maxRetries: number,
  inputLen: number,
  high: boolean,
  requestId: string | null,
): UpstreamJob {
  const n = req.y.length
  const from = n > inputLen ? n - inputLen : 0
  return {
    ticket,
    deadline,
    attempt_timeout_ms: attemptTimeoutMs,
    max_retries: maxRetries,
    high,
    request_id: requestId,
    model: req.model.model_name,
    horizon: req.horizon_steps,
    quantiles: req.quantiles,
    freq: req.freq,
    step_ms: req.step_ms,
    as_of_ms: req.as_of_ms,
    params: req.model.params,
    series_id: req.market_id,
    y: from === 0 ? req.y : req.y.subarray(from),
    y_ts: req.y_ts === null ? null : from === 0 ? req.y_ts : req.y_ts.subarray(from),
    space: req.transform.space,
    eps: req.transform.eps,
    x_past: req.x_past,
    x_future: req.x_future,
  }
}

/** Points sent upstream (the answer's `meta.input_len`). */
export function inputLength(req: ForecastRequest, config: TsfmConfig): number {
  return Math.min(req.y.length, config.input_len_steps)
}

/**
 * The tiny real forecast sent every `probe_interval_s` in baseline-only mode (SPEC §5): a flat
 * 32-point series at 0.5 ending now, default model, default quantiles and a 1-step horizon.
 */
export function probeRequest(config: TsfmConfig, now: number, stepMs: number, model: string = config.adapter.model): ForecastRequest {
  const n = Math.max(2, config.missing.min_points_for_tsfm)
  return Object.freeze({
    market_id: '__tsfm_probe__',
    as_of_ts: new Date(Math.floor(now / stepMs) * stepMs).toISOString(),
    as_of_ms: Math.floor(now / stepMs) * stepMs,
    freq: config.freq,
    step_ms: stepMs,
    horizon_steps: 1,
    quantiles: config.quantiles,
    y: new Float64Array(n).fill(0.5),
    y_ts: null,
    y_ts_zoned: false,
    max_gap_minutes: null,
    x_past: {},
    x_future: {},
    transform: config.transform,
    model: { provider: 'tollama', model_name: model, model_version: null, params: {} },
    liquidity_bucket: null,
    category: null,
    tte_bucket: null,
    rollout_stage: null,
  })
}
