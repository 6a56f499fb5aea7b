import type { FallbackReason } from '../reasons.js'
import type { ForecastRequest } from '../request/types.js'
import type { BreakerStateName, ForecastMeta, ForecastResponse, ModeName, RuntimeName } from '../response.js'
import { warningNames } from '../../workers/warnings.js'
import type { RouteChoice } from './routing.js'

/**
 * Building the wire answer (SPEC §2.1) from a band. The `yhat_q` object is built once per
 * computed band and shared, frozen, by every answer made from it (cache hits, single-flight
 * followers); only `meta` is per answer.
 */

export interface AnswerState {
  readonly breaker: BreakerStateName
  readonly mode: ModeName
}

export interface Timings {
  readonly queue: number
  readonly upstream: number
  readonly total: number
}

/** `yhat_q` from a quantile-major band of `quantiles.length × horizon` values. */
export function bandToPaths(band: Float64Array, quantiles: readonly number[], horizon: number): Readonly<Record<string, readonly number[]>> {
  const out: Record<string, readonly number[]> = {}
  for (let qi = 0; qi < quantiles.length; qi++) {
    const path = new Array<number>(horizon)
    const base = qi * horizon
    for (let h = 0; h < horizon; h++) path[h] = band[base + h] as number
    out[String(quantiles[qi])] = Object.freeze(path)
  }
  return Object.freeze(out)
}

export function warningsFor(mask: number, reason: FallbackReason | null): readonly string[] {
  const names = warningNames(mask)
  // The Python service lists the fallback reason among the warnings; old clients read it there.
  return reason === null ? names : [...names, `fallback_reason=${reason}`]
}

export interface AnswerParts {
  readonly runtime: RuntimeName
  readonly reason: FallbackReason | null
  readonly warnings: readonly string[]
  readonly route: RouteChoice
  readonly cacheHit: boolean
  readonly cacheStale: boolean
}

export function buildAnswer(
  req: ForecastRequest,
  paths: Readonly<Record<string, readonly number[]>>,
  parts: AnswerParts,
  state: AnswerState,
  timings: Timings,
  inputLen: number,
): ForecastResponse {
  const baselineRoute = parts.runtime === 'baseline' && parts.route.selected === 'tsfm' && parts.reason !== null
  const meta: ForecastMeta = {
    runtime: parts.runtime,
    model_name: req.model.model_name,
    model_version: req.model.model_version ?? 'unknown',
    input_len: inputLen,
    transform: req.transform.space,
    warnings: parts.warnings,
    fallback_used: parts.reason !== null,
    fallback_reason: parts.reason,
    cache_hit: parts.cacheHit,
    cache_stale: parts.cacheStale,
    circuit_breaker_state: state.breaker,
    degradation_state: state.mode,
    // A fallback forced after routing said tsfm (gates, mode, breaker) is reported as the
    // Python service does: route_selected baseline, route_reason = the fallback reason.
    route_selected: baselineRoute && isRoutingOverride(parts.reason) ? 'baseline' : parts.route.selected,
    route_reason: baselineRoute && isRoutingOverride(parts.reason) ? (parts.reason as string) : parts.route.reason,
    route_segment_key: parts.route.segment,
    timings_ms: timings,
  }
  return {
    market_id: req.market_id,
    as_of_ts: req.as_of_ts,
    freq: req.freq,
    horizon_steps: req.horizon_steps,
    quantiles: req.quantiles,
    yhat_q: paths,
    meta,
    conformal_last_step: null,
  }
}

/** Re-answer a cached or shared answer: same body, fresh meta flags and timings. */
export function reanswer(
  base: ForecastResponse,
  patch: { cacheHit: boolean; cacheStale: boolean; reason?: FallbackReason | null },
  state: AnswerState,
  timings: Timings,
): ForecastResponse {
  const reason = patch.reason === undefined ? base.meta.fallback_reason : patch.reason
  const warnings = patch.reason === undefined || patch.reason === null ? base.meta.warnings : [...base.meta.warnings, `fallback_reason=${patch.reason}`]
  const meta: ForecastMeta = {
    ...base.meta,
    warnings,
    fallback_used: reason !== null,
    fallback_reason: reason,
    cache_hit: patch.cacheHit,
    cache_stale: patch.cacheStale,
    circuit_breaker_state: state.breaker,
    degradation_state: state.mode,
    timings_ms: timings,
  }
  return { ...base, meta }
}

/** Reasons that the Python service also writes into route_selected/route_reason. */
function isRoutingOverride(reason: FallbackReason | null): boolean {
  return (
    reason === 'too_few_points' ||
    reason === 'baseline_only_liquidity_bucket' ||
    reason === 'max_gap_exceeded' ||
    reason === 'degradation_baseline_only' ||
    reason === 'circuit_breaker_open'
  )
}
