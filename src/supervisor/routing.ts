import type { RoutingConfig } from '../config/types.js'
import type { ForecastRequest } from '../request/types.js'

/**
 * The routing policy of the Python service (`runners/tsfm_service.py`, `_segment_candidates` /
 * `_select_route`): seven segment keys built from category, liquidity bucket and time-to-expiry
 * bucket, most specific first, in its `k=v|k=v` format with `unknown` for a missing value.
 *
 * Fixes: the Python service matches segments case-sensitively, so `liquidity_bucket=High` never
 * matches a configured `liquidity_bucket=high`; we compare case-insensitively (the issue asks
 * for it), by lower-casing both sides once — the configured sets at construction, the request's
 * keys per call.
 */

export type RouteReason =
  | 'default'
  | 'policy_segment_baseline'
  | 'policy_segment_enabled'
  | 'policy_default_baseline'
  | 'policy_default_tsfm'

export interface RouteChoice {
  readonly selected: 'tsfm' | 'baseline'
  readonly reason: RouteReason
  /** The configured segment that decided, as configured (null when the default decided). */
  readonly segment: string | null
}

/** The seven candidate keys for a request, most specific first, duplicates removed. */
export function segmentCandidates(req: Pick<ForecastRequest, 'category' | 'liquidity_bucket' | 'tte_bucket'>): string[] {
  const c = `category=${req.category || 'unknown'}`
  const l = `liquidity_bucket=${req.liquidity_bucket || 'unknown'}`
  const t = `tte_bucket=${req.tte_bucket || 'unknown'}`
  const all = [`${c}|${l}|${t}`, `${c}|${l}`, `${l}|${t}`, `${c}|${t}`, c, l, t]
  return [...new Set(all)]
}

const TSFM_DEFAULT: RouteChoice = Object.freeze({ selected: 'tsfm', reason: 'default', segment: null })

export class RoutingPolicy {
  readonly #baseline: Map<string, string>
  readonly #enabled: Map<string, string>
  readonly #defaultBaseline: boolean
  /** True when the policy can only ever answer `tsfm`/`default` (no per-request work). */
  readonly trivial: boolean

  constructor(config: RoutingConfig) {
    this.#baseline = new Map(config.baseline_segments.map((s) => [s.toLowerCase(), s]))
    this.#enabled = new Map(config.enabled_segments.map((s) => [s.toLowerCase(), s]))
    this.#defaultBaseline = config.default_route.toLowerCase() === 'baseline'
    this.trivial = this.#baseline.size === 0 && this.#enabled.size === 0 && !this.#defaultBaseline
  }

  select(req: Pick<ForecastRequest, 'category' | 'liquidity_bucket' | 'tte_bucket'>): RouteChoice {
    if (this.trivial) return TSFM_DEFAULT
    const keys = segmentCandidates(req).map((k) => k.toLowerCase())
    for (const k of keys) {
      const seg = this.#baseline.get(k)
      if (seg !== undefined) return { selected: 'baseline', reason: 'policy_segment_baseline', segment: seg }
    }
    if (this.#enabled.size > 0) {
      for (const k of keys) {
        const seg = this.#enabled.get(k)
        if (seg !== undefined) return { selected: 'tsfm', reason: 'policy_segment_enabled', segment: seg }
      }
      return this.#defaultBaseline
        ? { selected: 'baseline', reason: 'policy_default_baseline', segment: null }
        : { selected: 'tsfm', reason: 'policy_default_tsfm', segment: null }
    }
    return this.#defaultBaseline ? { selected: 'baseline', reason: 'policy_default_baseline', segment: null } : TSFM_DEFAULT
  }
}
