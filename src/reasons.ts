/**
 * Fallback reasons: a closed, documented set (SPEC §3). `upstream_http_<status>` is the only
 * family; every other reason is a literal. Warnings and reasons never carry raw error text.
 */

export const GATE_REASONS = [
  'too_few_points',
  'baseline_only_liquidity_bucket',
  'max_gap_exceeded',
  'route_policy_baseline',
] as const

export const FIXED_REASONS = [
  ...GATE_REASONS,
  'degradation_baseline_only',
  'circuit_breaker_open',
  'stale_if_error',
  'queue_timeout',
  'mailbox_full',
  'deadline_exceeded',
  'upstream_timeout',
  'upstream_unavailable',
  'upstream_invalid_payload',
  'upstream_model_missing',
  'cycle_budget_exhausted',
  'baseline_error',
] as const

export type GateReason = (typeof GATE_REASONS)[number]
export type UpstreamHttpReason = `upstream_http_${number}`
export type FallbackReason = (typeof FIXED_REASONS)[number] | UpstreamHttpReason

/** Reasons produced by a failed upstream attempt (the I/O actor's vocabulary). */
export type UpstreamFailureReason =
  /** Internal, never an answer: the job was withdrawn from its lane before it was sent. */
  | 'withdrawn'
  | 'queue_timeout'
  | 'upstream_timeout'
  | 'upstream_unavailable'
  | 'upstream_invalid_payload'
  | 'upstream_model_missing'
  | 'deadline_exceeded'
  | UpstreamHttpReason

/**
 * Upstream failures the caller caused (SPEC §5): a model tollama does not have, a request tollama
 * refuses as malformed (400), too large (413) or unprocessable (422). They are answered from the
 * baseline like any failure, but they say nothing about the upstream's health, so neither the
 * circuit breaker nor the mode machine counts them: six requests naming a model that is not
 * installed once opened the breaker for everyone, and 13 of them under traffic kept a daemon out
 * of normal mode for 13.6 minutes. 401/403 (our token), 404 on both routes (our base URL) and
 * 429/5xx are the runtime's or the upstream's trouble and do count.
 */
const CALLER_FAULTS = new Set<string>(['upstream_model_missing', 'upstream_http_400', 'upstream_http_413', 'upstream_http_422'])

export function isCallerFault(reason: string): boolean {
  return CALLER_FAULTS.has(reason)
}

const FIXED = new Set<string>(FIXED_REASONS)
const HTTP_REASON = /^upstream_http_[1-5]\d\d$/

export function isFallbackReason(s: string): s is FallbackReason {
  return FIXED.has(s) || HTTP_REASON.test(s)
}

export function isGateReason(s: string): s is GateReason {
  return (GATE_REASONS as readonly string[]).includes(s)
}

export function httpReason(status: number): UpstreamHttpReason {
  return `upstream_http_${status}`
}
