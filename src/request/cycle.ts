import type { TsfmConfig } from '../config/types.js'
import { TsfmError, quote } from '../errors.js'
import type { ForecastRequest, RequestDefaults } from './types.js'
import { validateForecastRequestAt } from './validate.js'

/**
 * Validation of a `POST /tsfm/cycle` body `{requests: [...], budget_ms}` (SPEC §2.2).
 *
 * - `requests`: required array of 1..`server.cycle_max_requests` forecast requests, each
 *   validated by `validateForecastRequest` with its errors under `requests[i]`
 *   (`requests[3].y[7]`).
 * - **One bad element rejects the whole cycle** (400 naming the first bad path): a client gets
 *   the same answer it would get for that request alone, and never has to reconcile a partial
 *   result set with the requests it sent.
 * - `budget_ms`: optional (null = `server.cycle_default_budget_ms`), a finite number in
 *   (0, `CYCLE_MAX_BUDGET_MS`]; a longer cycle is a caller mistake (a top-N cycle runs every few
 *   minutes at most) and would hold admission slots for too long.
 * - Duplicate `market_id`s are allowed: the per-market mailbox serialises them.
 * Never throws.
 */

export const CYCLE_MAX_BUDGET_MS = 600_000

export interface CycleRequest {
  /** In request order; the supervisor applies the liquidity priority. */
  readonly requests: readonly ForecastRequest[]
  readonly budget_ms: number
}

export interface CycleLimits {
  readonly max_requests: number
  readonly default_budget_ms: number
}

export type CycleValidationResult = { ok: true; value: CycleRequest } | { ok: false; error: TsfmError }

export function cycleLimitsFromConfig(config: TsfmConfig): CycleLimits {
  return Object.freeze({
    max_requests: config.server.cycle_max_requests,
    default_budget_ms: Math.min(config.server.cycle_default_budget_ms, CYCLE_MAX_BUDGET_MS),
  })
}

export function validateCycleRequest(body: unknown, defaults: RequestDefaults, limits: CycleLimits): CycleValidationResult {
  try {
    return readCycle(body, defaults, limits)
  } catch {
    // Only reachable through a getter or Proxy in an embedding caller's object.
    return fail('TSFM_BODY_NOT_OBJECT', 'the cycle body could not be read as plain JSON data (a getter or proxy threw)', null)
  }
}

function fail(code: 'TSFM_BODY_NOT_OBJECT' | 'TSFM_FIELD_REQUIRED' | 'TSFM_CYCLE', message: string, path: string | null): CycleValidationResult {
  return { ok: false, error: new TsfmError(code, message, path) }
}

function readCycle(body: unknown, defaults: RequestDefaults, limits: CycleLimits): CycleValidationResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || ArrayBuffer.isView(body)) {
    return fail('TSFM_BODY_NOT_OBJECT', `the cycle body must be a JSON object {"requests": [...]}, got ${quote(body)}`, null)
  }

  const budgetIn = Object.hasOwn(body, 'budget_ms') ? (body as { budget_ms: unknown }).budget_ms : undefined
  let budget_ms = limits.default_budget_ms
  if (budgetIn != null) {
    if (typeof budgetIn !== 'number' || !(budgetIn > 0 && budgetIn <= CYCLE_MAX_BUDGET_MS)) {
      return fail('TSFM_CYCLE', `budget_ms must be a number of milliseconds in (0, ${CYCLE_MAX_BUDGET_MS}], got ${quote(budgetIn)}`, 'budget_ms')
    }
    budget_ms = budgetIn
  }

  const list = Object.hasOwn(body, 'requests') ? (body as { requests: unknown }).requests : undefined
  if (list == null) return fail('TSFM_FIELD_REQUIRED', `requests is required, got ${quote(list)}`, 'requests')
  if (!Array.isArray(list)) return fail('TSFM_CYCLE', `requests must be an array of forecast requests, got ${quote(list)}`, 'requests')
  const n = list.length
  if (n < 1 || n > limits.max_requests) {
    return fail('TSFM_CYCLE', `requests must have 1 to ${limits.max_requests} items, got ${n}`, 'requests')
  }

  const requests: ForecastRequest[] = []
  for (let i = 0; i < n; i++) {
    const r = validateForecastRequestAt(list[i], defaults, `requests[${i}]`)
    if (!r.ok) return r
    requests.push(r.value)
  }
  return { ok: true, value: { requests, budget_ms } }
}
