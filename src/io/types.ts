import type { TransformSpace } from '../config/types.js'
import type { UpstreamFailureReason } from '../reasons.js'

/**
 * The message protocol between the supervisor (main thread) and the I/O actor (its own worker
 * thread: control calls through comlink, jobs and outcomes on a data port, actor-api.ts). Jobs
 * and outcomes cross the thread boundary in batches (one message per event-loop turn each way),
 * never one promise per job.
 */

/** One market's upstream forecast job. */
export interface UpstreamJob {
  /** The supervisor's id for this attempt; outcomes are matched by it. */
  readonly ticket: number
  /** Absolute deadline on the shared clock (`performance.timeOrigin + performance.now()`). */
  readonly deadline: number
  /** Timeout of one HTTP attempt (1200 ms normal, 900 ms degraded). */
  readonly attempt_timeout_ms: number
  /** Retries allowed after the first attempt (0 in degraded mode). */
  readonly max_retries: number
  /** Served before the lane's other waiting jobs (`priority: 'high'`). */
  readonly high: boolean
  /** The caller's request id (valid, request/request-id.ts), sent upstream with its series; null if none. */
  readonly request_id: string | null
  readonly model: string
  readonly horizon: number
  /** Sorted ascending, unique, in (0,1). */
  readonly quantiles: readonly number[]
  /** Our notation (`5m`, `1h`); the actor converts to pandas (`5min`, `1h`). */
  readonly freq: string
  readonly step_ms: number
  /** Epoch ms of the last point: timestamps are derived backwards from it when `y_ts` is null. */
  readonly as_of_ms: number
  /** The model's `params`, forwarded as tollama `options`. */
  readonly params: Readonly<Record<string, unknown>>
  /** Series id (the market id). */
  readonly series_id: string
  /** The last `input_len_steps` points, as given (the actor applies the transform). */
  readonly y: Float64Array
  readonly y_ts: Float64Array | null
  readonly space: TransformSpace
  readonly eps: number
  /** Covariates; the actor cuts `x_past` to the series and `x_future` to the horizon. */
  readonly x_past: Readonly<Record<string, Float64Array>>
  readonly x_future: Readonly<Record<string, Float64Array>>
}

export interface UpstreamSuccess {
  readonly ticket: number
  readonly ok: true
  /** `quantiles.length * horizon` values in model space, quantile-major, in the job's quantile order. */
  readonly values: Float64Array
  readonly attempts: number
  /** Wall time from the job's arrival in the actor to its answer. */
  readonly upstream_ms: number
  /** How many series shared the successful HTTP request. */
  readonly batch_size: number
  /**
   * The multiplexed request (group of attempts) this outcome came from: members of one upstream
   * request share it, so the breaker can count that request once toward consecutive failures.
   * 0 = an outcome of its own.
   */
  readonly batch_id: number
}

export interface UpstreamFailure {
  readonly ticket: number
  readonly ok: false
  readonly reason: UpstreamFailureReason
  readonly attempts: number
  readonly upstream_ms: number
  readonly batch_size: number
  /** As UpstreamSuccess.batch_id: members failed by one request (or one thread death) share it. */
  readonly batch_id: number
  /**
   * The `X-Request-Id` of the upstream request whose failure this is (for the log lines about
   * it); null when the job failed without one (shed, withdrawn, its thread died, out of time
   * before it was sent).
   */
  readonly upstream_request_id: string | null
}

export type UpstreamOutcome = UpstreamSuccess | UpstreamFailure

/** One HTTP request the actor made, for the main thread's metrics. */
export interface UpstreamRequestRecord {
  readonly endpoint: '/api/forecast' | '/v1/forecast' | '/api/version'
  /** `ok` or the failure reason of the whole request. */
  readonly outcome: 'ok' | UpstreamFailureReason
  readonly ms: number
  readonly series: number
}

export interface UpstreamHealth {
  /** The last probe answered 200 from `GET /api/version`. */
  readonly ok: boolean
  readonly version: string | null
  /** Which forecast route is in use. */
  readonly endpoint: '/api/forecast' | '/v1/forecast'
  readonly checked_at: number
  readonly latency_ms: number | null
}

/** How the I/O thread's lanes queue: from `perf` (the rest of their settings are `adapter.lane`). */
export interface LaneSettings {
  /** `perf.worker_concurrency`: the cap of each lane's adaptive in-flight limit. */
  readonly max_inflight: number
  readonly queue_policy: 'predicted' | 'fixed'
  readonly queue_timeout_ms: number
}

export function laneSettings(perf: { readonly worker_concurrency: number; readonly queue_policy: 'predicted' | 'fixed'; readonly queue_timeout_ms: number }): LaneSettings {
  return { max_inflight: perf.worker_concurrency, queue_policy: perf.queue_policy, queue_timeout_ms: perf.queue_timeout_ms }
}

/** One lane's state, as the I/O thread reports it (lane.ts `LaneSnapshot`). */
export interface LaneStats {
  readonly lane: string
  readonly limit: number
  readonly inflight: number
  readonly queued: number
  readonly predicted_wait_ms: number
  readonly shed: number
  readonly requests: number
  readonly series: number
  readonly cost_fixed_ms: number
  readonly cost_per_series_ms: number
  /** Hedges sent for requests of this replica (several replicas only; 0 otherwise). */
  readonly hedges: number
  /**
   * Whether the lane sends to this replica (replica-health.ts): `up`, `trial` (one batch after a
   * probe answered), `down` (none until a probe answers). Always `up` with one replica: its
   * health is the main thread's breaker.
   */
  readonly health: 'up' | 'trial' | 'down'
}

export interface IoStats {
  readonly jobs_received: number
  readonly jobs_pending: number
  readonly requests_sent: number
  readonly series_sent: number
  readonly retries: number
  /** Hedge requests sent (several replicas, `priority: high`), and jobs they answered first. */
  readonly hedges: number
  readonly hedge_wins: number
  readonly endpoint: '/api/forecast' | '/v1/forecast'
  readonly restarts: number
  readonly lanes: readonly LaneStats[]
}
