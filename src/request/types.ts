import type { TransformSpace } from '../config/types.js'

/**
 * A validated forecast request (SPEC §2.1): defaults filled, quantiles sorted, numbers in typed
 * arrays. Produced only by `validateForecastRequest` (src/request/validate.ts); the HTTP daemon
 * and the embedding API both go through it. Objects keep one shape (every field always present).
 */
export interface ForecastRequest {
  readonly market_id: string
  /** Echoed in the answer: the ISO string as given, or the ISO form of epoch seconds. */
  readonly as_of_ts: string
  /** `as_of_ts` as epoch milliseconds. */
  readonly as_of_ms: number
  /** As given (`5m`, `1h`); default from config. */
  readonly freq: string
  /** One step of `freq` in milliseconds. */
  readonly step_ms: number
  readonly horizon_steps: number
  /** Sorted ascending, unique, each in (0,1). */
  readonly quantiles: readonly number[]
  /** The series as given (probabilities in logit space; any finite values in identity space). */
  readonly y: Float64Array
  /** Epoch ms of each point, or null when the request had no `y_ts`. */
  readonly y_ts: Float64Array | null
  /** Whether `y_ts` carried zone offsets (all or none). Meaningless when `y_ts` is null. */
  readonly y_ts_zoned: boolean
  /** The caller's declared largest gap, or null. */
  readonly max_gap_minutes: number | null
  readonly x_past: Readonly<Record<string, Float64Array>>
  readonly x_future: Readonly<Record<string, Float64Array>>
  readonly transform: { readonly space: TransformSpace; readonly eps: number }
  readonly model: {
    readonly provider: string
    readonly model_name: string
    readonly model_version: string | null
    readonly params: Readonly<Record<string, unknown>>
  }
  readonly liquidity_bucket: string | null
  readonly category: string | null
  readonly tte_bucket: string | null
  readonly rollout_stage: string | null
}

/** The defaults validation fills in, taken from the effective config. */
export interface RequestDefaults {
  readonly freq: string
  readonly horizon_steps: number
  readonly quantiles: readonly number[]
  readonly transform: { readonly space: TransformSpace; readonly eps: number }
  readonly model_name: string
}

/** Hard limits of the wire contract (SPEC §2.1). */
export const LIMITS = {
  market_id_max_chars: 256,
  y_min_points: 2,
  y_max_points: 20_000,
  horizon_min: 1,
  horizon_max: 1000,
  quantiles_max: 20,
  eps_max: 0.01,
  segment_max_chars: 128,
  covariates_max: 32,
} as const
