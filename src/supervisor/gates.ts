import type { TsfmConfig } from '../config/types.js'
import type { GateReason } from '../reasons.js'
import type { ForecastRequest } from '../request/types.js'
import type { RouteChoice, RoutingPolicy } from './routing.js'

/**
 * The eligibility gates (SPEC §3 step 4), run before any upstream work, first match wins:
 * too few points, the baseline-only liquidity bucket (case-insensitive), the largest gap
 * (declared, else computed from `y_ts`) above `missing.max_gap_minutes`, then the routing policy.
 * Pure: the same request and config always give the same verdict, which is why gate answers
 * may be cached.
 */

export interface GateVerdict {
  /** null = eligible for the upstream. */
  readonly reason: GateReason | null
  readonly route: RouteChoice
}

export class Gates {
  readonly #minPoints: number
  readonly #lowBucket: string
  readonly #maxGapMinutes: number

  constructor(
    config: TsfmConfig,
    readonly routing: RoutingPolicy,
  ) {
    this.#minPoints = config.missing.min_points_for_tsfm
    this.#lowBucket = config.fallback.baseline_only_liquidity_bucket.toLowerCase()
    this.#maxGapMinutes = config.missing.max_gap_minutes
  }

  check(req: ForecastRequest): GateVerdict {
    const route = this.routing.select(req)
    if (req.y.length < this.#minPoints) return { reason: 'too_few_points', route }
    if (req.liquidity_bucket !== null && req.liquidity_bucket.toLowerCase() === this.#lowBucket) {
      return { reason: 'baseline_only_liquidity_bucket', route }
    }
    const gap = largestGapMinutes(req)
    if (gap !== null && gap > this.#maxGapMinutes) return { reason: 'max_gap_exceeded', route }
    if (route.selected === 'baseline') return { reason: 'route_policy_baseline', route }
    return { reason: null, route }
  }
}

/**
 * The caller's declared largest gap if given, else the largest step between consecutive `y_ts`
 * in minutes (0 when every step is exactly one `freq`, as in the Python service), else null.
 */
export function largestGapMinutes(req: ForecastRequest): number | null {
  if (req.max_gap_minutes !== null) return req.max_gap_minutes
  const ts = req.y_ts
  if (ts === null || ts.length < 2) return null
  let max = 0
  for (let i = 1; i < ts.length; i++) {
    const d = (ts[i] as number) - (ts[i - 1] as number)
    if (d > max) max = d
  }
  return max > req.step_ms ? max / 60_000 : 0
}
