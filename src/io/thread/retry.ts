import type { Failure } from './classify.js'

/**
 * The retry and attempt-timeout policy of SPEC §4, as pure functions of numbers on the shared
 * clock. A retry happens only if the failure is retryable, retries are left, and after the
 * backoff at least the retry envelope plus the post-processing budget remains before the
 * deadline — so a retry can never be the reason an answer is late.
 */
export interface RetryConfig {
  readonly retry_backoff_ms: number
  readonly retry_jitter_ms: number
  readonly retry_envelope_ms: number
  readonly postprocess_budget_ms: number
}

export type RetryDecision = { readonly retry: true; readonly delayMs: number } | { readonly retry: false }

export const NO_RETRY: RetryDecision = Object.freeze({ retry: false })

export interface RetryInput {
  readonly failure: Failure
  /** Retries already made (0 after the first attempt). */
  readonly retriesDone: number
  readonly maxRetries: number
  readonly deadline: number
  readonly now: number
  /** The server's `Retry-After` in ms, or null. */
  readonly retryAfterMs: number | null
}

/**
 * Backoff `retry_backoff_ms` + uniform jitter in [0, `retry_jitter_ms`) (`random()` in [0,1)).
 * A `Retry-After` longer than that is honoured if it fits; if it does not fit, there is no retry.
 */
export function decideRetry(input: RetryInput, cfg: RetryConfig, random: () => number): RetryDecision {
  if (!input.failure.retryable || input.retriesDone >= input.maxRetries) return NO_RETRY
  let delayMs = cfg.retry_backoff_ms + Math.floor(random() * cfg.retry_jitter_ms)
  if (input.retryAfterMs !== null && input.retryAfterMs > delayMs) delayMs = input.retryAfterMs
  if (input.deadline - input.now - delayMs < cfg.retry_envelope_ms + cfg.postprocess_budget_ms) return NO_RETRY
  return { retry: true, delayMs }
}

/** The timeout of the next attempt: the job's, cut so post-processing still fits before the deadline. */
export function attemptTimeoutMs(jobTimeoutMs: number, deadline: number, now: number, postprocessBudgetMs: number): number {
  return Math.min(jobTimeoutMs, deadline - now - postprocessBudgetMs)
}

const DELTA_SECONDS = /^\s*(\d{1,9})\s*$/
/** An HTTP-date names its weekday and month (`Sun, 06 Nov 1994 08:49:37 GMT`); V8's lenient
 * Date.parse would otherwise read `-1` as a year. */
const HTTP_DATE = /^\s*[A-Za-z]{3},/

/** `Retry-After` as ms from `nowMs` (epoch ms): delta-seconds or an HTTP-date; null if absent or unparsable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value == null) return null
  const m = DELTA_SECONDS.exec(value)
  if (m !== null) return Number(m[1]) * 1000
  if (!HTTP_DATE.test(value)) return null
  const at = Date.parse(value)
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs)
}
