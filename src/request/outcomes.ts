import { TsfmError, quote, type ErrorCode } from '../errors.js'
import { epochSecondsToMs, isPlausibleMs, newParsedTimestamp, parseIsoTimestamp } from './timestamp.js'
import { LIMITS } from './types.js'

/**
 * Validation of resolved outcomes (`POST /tsfm/outcomes`, `runner.observe`): a body
 * `{"outcomes": [...]}` (or the bare array) of
 *
 *   { "market_id": "m-1", "as_of_ts": "2026-02-20T00:00:00Z" | 1771545600,
 *     "realized": 0.62 | [0.61, 0.62], "horizon_steps": 2 (optional), …segment fields (ignored) }
 *
 * `as_of_ts` is that of the forecast the outcome resolves (read as the forecast's is);
 * `realized` is the realised value of the last step, or the values per step (the last one is
 * used: the conformal adjustment is of the last step). When the outcome says the horizon (an
 * array is one value per step, or `horizon_steps`), it matches only a band of that horizon. Like a cycle, one bad outcome rejects
 * the batch with a 400 naming it (`outcomes[17].realized[1]`), so a client never has to work
 * out which of its outcomes were taken. Never throws.
 */

/**
 * Outcomes in one batch, at most. A batch is handled in one turn of the main thread at ~3 µs an
 * outcome (perf/conformal/embedded.bench.ts): 2 000 hold forecasts back ≤ ~6 ms; a larger
 * backlog goes in several requests.
 */
export const OUTCOMES_MAX = 2000
/** Values in one `realized` array, at most (the forecast's own horizon limit). */
const REALIZED_MAX = 1000

export interface Outcome {
  readonly market_id: string
  readonly as_of_ms: number
  /** The realised value of the last step. */
  readonly realized: number
  /** The forecast's horizon, when the outcome says (`horizon_steps`, or one `realized` value per step); 0 = not said. */
  readonly steps: number
}

export type OutcomesResult = { readonly ok: true; readonly value: readonly Outcome[] } | { readonly ok: false; readonly error: TsfmError }

class Bad {
  constructor(readonly error: TsfmError) {}
}

function bad(code: ErrorCode, path: string | null, what: string): Bad {
  return new Bad(new TsfmError(code, path === null ? what : `${path} ${what}`, path))
}

export function validateOutcomes(body: unknown): OutcomesResult {
  try {
    return { ok: true, value: readBatch(body) }
  } catch (e) {
    if (e instanceof Bad) return { ok: false, error: e.error }
    // Only reachable through a getter or Proxy in an embedding caller's object.
    return { ok: false, error: new TsfmError('TSFM_BODY_NOT_OBJECT', 'the outcomes could not be read as plain JSON data (a getter or proxy threw)', null) }
  }
}

function readBatch(body: unknown): Outcome[] {
  let list: unknown
  if (Array.isArray(body)) list = body
  else if (typeof body === 'object' && body !== null && !ArrayBuffer.isView(body)) {
    list = Object.hasOwn(body, 'outcomes') ? (body as Record<string, unknown>).outcomes : undefined
    if (list == null) throw bad('TSFM_FIELD_REQUIRED', 'outcomes', `is required, got ${quote(list)}`)
  } else throw bad('TSFM_BODY_NOT_OBJECT', null, `the outcomes body must be a JSON object {"outcomes": [...]}, got ${quote(body)}`)
  if (!Array.isArray(list)) throw bad('TSFM_OUTCOMES', 'outcomes', `must be an array of outcomes, got ${quote(list)}`)
  if (list.length > OUTCOMES_MAX) throw bad('TSFM_OUTCOMES', 'outcomes', `must have at most ${OUTCOMES_MAX} items, got ${list.length}`)
  const out = new Array<Outcome>(list.length)
  const ts = newParsedTimestamp()
  for (let i = 0; i < list.length; i++) out[i] = readOutcome(list[i], `outcomes[${i}]`, ts)
  return out
}

function readOutcome(v: unknown, at: string, ts: ReturnType<typeof newParsedTimestamp>): Outcome {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('TSFM_OUTCOMES', at, `must be an object {"market_id", "as_of_ts", "realized"}, got ${quote(v)}`)
  const o = v as Record<string, unknown>
  const market = Object.hasOwn(o, 'market_id') ? o.market_id : undefined
  if (market == null) throw bad('TSFM_FIELD_REQUIRED', `${at}.market_id`, `is required, got ${quote(market)}`)
  if (typeof market !== 'string') throw bad('TSFM_FIELD_TYPE', `${at}.market_id`, `must be a string, got ${quote(market)}`)
  if (market.length < 1 || market.length > LIMITS.market_id_max_chars) throw bad('TSFM_FIELD_RANGE', `${at}.market_id`, `must be 1 to ${LIMITS.market_id_max_chars} characters long, got ${quote(market)}`)
  const asOf = Object.hasOwn(o, 'as_of_ts') ? o.as_of_ts : undefined
  if (asOf == null) throw bad('TSFM_FIELD_REQUIRED', `${at}.as_of_ts`, `is required, got ${quote(asOf)}`)
  let ms = Number.NaN
  if (typeof asOf === 'string') {
    if (parseIsoTimestamp(asOf, ts) && isPlausibleMs(ts.ms)) ms = ts.ms
  } else if (typeof asOf === 'number') ms = epochSecondsToMs(asOf)
  if (ms !== ms) throw bad('TSFM_TIMESTAMP', `${at}.as_of_ts`, `must be an ISO-8601 timestamp or epoch seconds between 1970 and 2100 (the forecast's as_of_ts), got ${quote(asOf)}`)
  const r = Object.hasOwn(o, 'realized') ? o.realized : undefined
  if (r == null) throw bad('TSFM_FIELD_REQUIRED', `${at}.realized`, `is required, got ${quote(r)}`)
  let realized: unknown = r
  let path = `${at}.realized`
  const h = Object.hasOwn(o, 'horizon_steps') ? o.horizon_steps : undefined
  let steps = 0
  if (h != null) {
    if (typeof h !== 'number' || !Number.isInteger(h) || h < 1 || h > REALIZED_MAX) throw bad('TSFM_OUTCOMES', `${at}.horizon_steps`, `must be the forecast's horizon_steps, an integer from 1 to ${REALIZED_MAX}, got ${quote(h)}`)
    steps = h
  }
  if (Array.isArray(r)) {
    if (steps !== 0 && r.length !== steps) throw bad('TSFM_OUTCOMES', path, `must have one value per step (horizon_steps ${steps}), got ${r.length} items`)
    steps = r.length
    if (r.length < 1 || r.length > REALIZED_MAX) throw bad('TSFM_OUTCOMES', path, `must be a number or 1 to ${REALIZED_MAX} numbers (one per step), got ${r.length} items`)
    path = `${path}[${r.length - 1}]`
    realized = r[r.length - 1]
  }
  if (typeof realized !== 'number' || !(realized >= 0 && realized <= 1)) {
    throw bad('TSFM_OUTCOMES', path, `must be a realised probability, a finite number in [0, 1], got ${quote(realized)}`)
  }
  return { market_id: market, as_of_ms: ms, realized, steps }
}
