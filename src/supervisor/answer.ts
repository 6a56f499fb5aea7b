import { adjustBand, type ConformalLastStep } from '../conformal/adjustment.js'
import type { ConformalChoice } from '../conformal/choice.js'
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
  /** Read once per answer from the conformal store: one state file per answer, never two. */
  readonly conformal: ConformalChoice
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
  // A fallback forced after routing said tsfm (gates, mode, breaker) is reported as the
  // Python service does: route_selected baseline, route_reason = the fallback reason.
  const override = baselineRoute && isRoutingOverride(parts.reason)
  const meta = newMeta(
    parts.runtime,
    req.model.model_name,
    req.model.model_version ?? 'unknown',
    inputLen,
    req.transform.space,
    parts.warnings,
    parts.reason,
    parts.cacheHit,
    parts.cacheStale,
    state,
    override ? 'baseline' : parts.route.selected,
    override ? (parts.reason as string) : parts.route.reason,
    parts.route.segment,
    state.conformal,
    timings,
  )
  return newResponse(req.market_id, req.as_of_ts, req.freq, req.horizon_steps, req.quantiles, paths, meta, lastStep(paths, req.quantiles, req.horizon_steps, state.conformal))
}

/**
 * Re-answer a cached or shared answer: same body, fresh meta flags and timings.
 *
 * Written out field by field through the same constructors as `buildAnswer` rather than
 * `{ ...base.meta, ... }` / `{ ...base, meta }`, so every answer has one hidden class (a spread
 * copy gets its own) — and it is cheaper, though it hardly matters next to the rest of a hit:
 * 40–60 ns against ~75 ns for the spreads (perf/supervisor/answer.bench.ts, "reanswer", this
 * machine, two runs), of a ~26 µs embedded cache hit. Same key order, so `JSON.stringify` of an
 * answer is unchanged.
 */
export function reanswer(
  base: ForecastResponse,
  patch: { cacheHit: boolean; cacheStale: boolean; reason?: FallbackReason | null },
  state: AnswerState,
  timings: Timings,
): ForecastResponse {
  const m = base.meta
  const reason = patch.reason === undefined ? m.fallback_reason : patch.reason
  const warnings = patch.reason === undefined || patch.reason === null ? m.warnings : [...m.warnings, `fallback_reason=${patch.reason}`]
  const meta = newMeta(
    m.runtime,
    m.model_name,
    m.model_version,
    m.input_len,
    m.transform,
    warnings,
    reason,
    patch.cacheHit,
    patch.cacheStale,
    state,
    m.route_selected,
    m.route_reason,
    m.route_segment_key,
    state.conformal,
    timings,
  )
  // Recomputed, not copied: a cached answer gets the conformal state in use now, not the one
  // it was first built with (a reload applies to cache hits at once).
  return newResponse(base.market_id, base.as_of_ts, base.freq, base.horizon_steps, base.quantiles, base.yhat_q, meta, lastStep(base.yhat_q, base.quantiles, base.horizon_steps, state.conformal))
}

/** Every `meta` is made here, so all share one hidden class and one key order (the wire's). */
function newMeta(
  runtime: ForecastMeta['runtime'],
  model_name: string,
  model_version: string,
  input_len: number,
  transform: ForecastMeta['transform'],
  warnings: readonly string[],
  reason: FallbackReason | null,
  cache_hit: boolean,
  cache_stale: boolean,
  state: AnswerState,
  route_selected: ForecastMeta['route_selected'],
  route_reason: string,
  route_segment_key: string | null,
  conformal: ConformalChoice,
  timings_ms: Timings,
): ForecastMeta {
  return {
    runtime,
    model_name,
    model_version,
    input_len,
    transform,
    warnings,
    fallback_used: reason !== null,
    fallback_reason: reason,
    cache_hit,
    cache_stale,
    circuit_breaker_state: state.breaker,
    degradation_state: state.mode,
    route_selected,
    route_reason,
    route_segment_key,
    conformal_state_loaded: conformal.loaded,
    conformal_segment_key: conformal.key,
    timings_ms,
  }
}

/** Every answer is made here (one hidden class, the wire's key order). */
function newResponse(
  market_id: string,
  as_of_ts: string,
  freq: string,
  horizon_steps: number,
  quantiles: readonly number[],
  yhat_q: Readonly<Record<string, readonly number[]>>,
  meta: ForecastMeta,
  conformal_last_step: ConformalLastStep | null,
): ForecastResponse {
  return { market_id, as_of_ts, freq, horizon_steps, quantiles, yhat_q, meta, conformal_last_step }
}

/**
 * The conformal adjustment of the band's last step (the Python service's `conformal_last_step`):
 * the outer pair (lowest and highest quantile; q10/q90 in the default request) and the median
 * (0.5 when asked for, else the pair's midpoint), on the final band — after crossing repair and
 * width guards, whether it came from the upstream, the baseline or the cache.
 */
function lastStep(paths: Readonly<Record<string, readonly number[]>>, quantiles: readonly number[], horizon: number, c: ConformalChoice): ConformalLastStep | null {
  if (c.adjustment === null) return null
  const at = horizon - 1
  const low = (paths[String(quantiles[0])] as readonly number[])[at] as number
  const high = (paths[String(quantiles[quantiles.length - 1])] as readonly number[])[at] as number
  const mid = paths['0.5']
  return adjustBand(low, mid === undefined ? null : (mid[at] as number), high, c.adjustment)
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
