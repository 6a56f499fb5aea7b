import { httpReason, type UpstreamFailureReason } from '../../reasons.js'

/**
 * Every way an upstream attempt can fail becomes a typed reason plus a retryable flag
 * (SPEC §3, §4). Raw error text and URLs stop here: nothing downstream sees them.
 *
 * Retryable: timeouts, connection refused/reset, 429, 502, 503, 504.
 * Not retryable: other 4xx, 500, an invalid payload, a missing model.
 */
export interface Failure {
  readonly reason: UpstreamFailureReason
  readonly retryable: boolean
}

/** A 404 that is about the route, not the model: switch `/api/forecast` ↔ `/v1/forecast`. */
export const ROUTE_MISSING = 'route_missing' as const
export type StatusVerdict = Failure | typeof ROUTE_MISSING

const f = (reason: UpstreamFailureReason, retryable: boolean): Failure => Object.freeze({ reason, retryable })

export const TIMEOUT = f('upstream_timeout', true)
export const UNAVAILABLE = f('upstream_unavailable', true)
export const INVALID_PAYLOAD = f('upstream_invalid_payload', false)
export const MODEL_MISSING = f('upstream_model_missing', false)
export const DEADLINE = f('deadline_exceeded', false)
/** Shed from its lane's queue: it could no longer finish in time (lane.ts). */
export const QUEUE_TIMEOUT = f('queue_timeout', false)
/** Both forecast routes answered a route 404. */
export const NOT_FOUND = f('upstream_http_404', false)

const RETRYABLE_STATUS = new Set([429, 502, 503, 504])
const byStatus = new Map<number, Failure>()

/** tollama says `model 'x' is not installed`; a route 404 says `Not Found`. */
const MODEL_404 = /not installed|\bmodel\b/i

/** The verdict on a non-2xx status; `detail` is the body's `detail` string when there was one. */
export function classifyStatus(status: number, detail: string | null): StatusVerdict {
  if (status === 404) return detail !== null && MODEL_404.test(detail) ? MODEL_MISSING : ROUTE_MISSING
  let failure = byStatus.get(status)
  if (failure === undefined) {
    failure = f(httpReason(status), RETRYABLE_STATUS.has(status))
    byStatus.set(status, failure)
  }
  return failure
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'])

/**
 * The verdict on a thrown error. `timedOut` is true when our own attempt timer aborted the
 * request: the abort surfaces as whatever error undici raises at that moment (an AbortError
 * during headers, a body error during a slow body), so the timer is the only reliable witness.
 * Every other network error (refused, reset, socket closed, DNS) is `upstream_unavailable`.
 */
export function classifyError(err: unknown, timedOut: boolean): Failure {
  if (timedOut) return TIMEOUT
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return TIMEOUT
  return UNAVAILABLE
}
