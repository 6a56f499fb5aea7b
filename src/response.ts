import type { TransformSpace } from './config/types.js'
import type { ConformalLastStep } from './conformal/adjustment.js'
import type { FallbackReason } from './reasons.js'

export type BreakerStateName = 'closed' | 'open' | 'half-open'
export type ModeName = 'normal' | 'degraded' | 'baseline-only'
export type RuntimeName = 'tollama' | 'baseline'

/** `meta` of a forecast answer: the Python service's fields plus `timings_ms`. */
export interface ForecastMeta {
  readonly runtime: RuntimeName
  readonly model_name: string
  readonly model_version: string
  readonly input_len: number
  readonly transform: TransformSpace
  readonly warnings: readonly string[]
  readonly fallback_used: boolean
  readonly fallback_reason: FallbackReason | null
  readonly cache_hit: boolean
  readonly cache_stale: boolean
  readonly circuit_breaker_state: BreakerStateName
  readonly degradation_state: ModeName
  readonly route_selected: 'tsfm' | 'baseline'
  readonly route_reason: string
  /** The configured routing segment that decided the route, or null (newest Python service). */
  readonly route_segment_key: string | null
  /** A conformal state file is loaded (the Python service's field). */
  readonly conformal_state_loaded: boolean
  /** The state file's segment whose adjustment `conformal_last_step` used; null = its default. */
  readonly conformal_segment_key: string | null
  readonly timings_ms: { readonly queue: number; readonly upstream: number; readonly total: number }
}

/** The 200 answer of `POST /tsfm/forecast` and of `runner.forecast()` (SPEC §2.1). */
export interface ForecastResponse {
  readonly market_id: string
  readonly as_of_ts: string
  readonly freq: string
  readonly horizon_steps: number
  readonly quantiles: readonly number[]
  /** Keyed by `String(q)` ("0.1"), each path `horizon_steps` long, values in [0,1]. */
  readonly yhat_q: Readonly<Record<string, readonly number[]>>
  readonly meta: ForecastMeta
  /** The last step's band after the conformal adjustment; null when no state is loaded. */
  readonly conformal_last_step: ConformalLastStep | null
}
