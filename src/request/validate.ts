import type { TsfmConfig } from '../config/types.js'
import type { ErrorCode } from '../errors.js'
import { TsfmError, quote } from '../errors.js'
import { freqError, freqStepMs } from './freq.js'
import {
  epochSecondsToMs,
  formatIsoUtc,
  isPlausibleMs,
  newParsedTimestamp,
  parseIsoTimestamp,
} from './timestamp.js'
import type { ParsedTimestamp } from './timestamp.js'
import { DayMemo, parseSameDayTimestamp } from './same-day-timestamps.js'
import type { ForecastRequest, RequestDefaults } from './types.js'
import { LIMITS } from './types.js'

/**
 * Validation of a `POST /tsfm/forecast` body (SPEC §2.1), shared by the HTTP daemon and the
 * embedding API: a typed `ForecastRequest` with every default filled, or one `TsfmError` with a
 * stable code, the JSON path of the first bad value (`y[3]`, `x_past.volume[7]`) and a message that
 * names the field and quotes the value.
 *
 * Decisions (documented in the README's request table):
 * - **Codes.** A field with a code of its own uses it for every problem with its value, the wrong
 *   JSON type included (`"horizon_steps": "12"` → TSFM_HORIZON); the generic TSFM_FIELD_TYPE /
 *   TSFM_FIELD_RANGE serve the fields without one (`market_id`, `max_gap_minutes`, the segment
 *   strings). A missing or null required field is TSFM_FIELD_REQUIRED.
 * - **No coercion.** Numbers written as strings are rejected everywhere (`"0.5"`, `"12"`, `"NaN"`).
 * - **Optional = null.** `null` for an optional field means its default; unknown fields (e.g. the
 *   Python schema's `observed_ts`) are ignored.
 * - **Order.** Fields are checked in a fixed order (`market_id`, `as_of_ts`, `freq`,
 *   `horizon_steps`, `quantiles`, `transform`, `y`, `y_ts`, `max_gap_minutes`, `x_past`,
 *   `x_future`, `model`, segments) and the first error is reported; `transform` precedes `y`
 *   because it decides `y`'s range.
 * - **`as_of_ts` vs `y_ts`.** SPEC calls `as_of_ts` the time of the last point, but a mismatch
 *   is not rejected: the Python service does not check it and callers legitimately stamp a cycle
 *   time that trails the last tick. `as_of_ts` stays the cache key and the anchor for derived
 *   timestamps when `y_ts` is null.
 * - **`model.provider`** accepts any non-empty string, but only `tollama` is served.
 * - **Untrusted objects.** Members are read only when own (`Object.hasOwn`), so a polluted
 *   `Object.prototype` or a `__proto__` key changes nothing; covariate records are null-prototype;
 *   `model.params` is deep-copied through JSON (detached from the caller, bounded in size).
 *   Anything that throws while being read (a getter, a Proxy) becomes TSFM_BODY_NOT_OBJECT —
 *   validation never throws.
 *
 * Hot path: one pass per number array into a Float64Array, no closures or per-element
 * allocations; perf/request/validate.bench.ts measures a 288-point body.
 */

export type ValidationResult = { ok: true; value: ForecastRequest } | { ok: false; error: TsfmError }

/** Limits local to this module (the wire contract's are in `LIMITS`). */
const COVARIATE_NAME_MAX_CHARS = 64
const PROVIDER_MAX_CHARS = 64
const MODEL_FIELD_MAX_CHARS = 256
/** `model.params` is forwarded upstream as tollama `options`: small by nature. */
export const MODEL_PARAMS_MAX_CHARS = 16_384
/**
 * ...and shallow: tollama's options are flat model settings. 16 KiB of JSON can nest ~8 000
 * levels, deeper than the structured clone that carries a job to the I/O thread accepts
 * (a RangeError; found by test/integration/http/fuzz.test.ts).
 */
export const MODEL_PARAMS_MAX_DEPTH = 32

const EMPTY_SERIES: Readonly<Record<string, Float64Array>> = Object.freeze(Object.create(null) as Record<string, Float64Array>)
const EMPTY_PARAMS: Readonly<Record<string, unknown>> = Object.freeze(Object.create(null) as Record<string, unknown>)

/** The defaults a request inherits from the effective config. */
export function defaultsFromConfig(config: TsfmConfig): RequestDefaults {
  return Object.freeze({
    freq: config.freq,
    horizon_steps: config.horizon_steps,
    quantiles: Object.freeze([...config.quantiles].sort((a, b) => a - b)),
    transform: Object.freeze({ space: config.transform.space, eps: config.transform.eps }),
    model_name: config.adapter.model,
  })
}

/** Validates one forecast request body. Never throws. */
export function validateForecastRequest(body: unknown, defaults: RequestDefaults): ValidationResult {
  return validateForecastRequestAt(body, defaults, '')
}

/**
 * Same as `validateForecastRequest`, with every error path under `base` (e.g. `requests[3]`, so
 * a bad point of a cycle element is `requests[3].y[7]`). `base` = '' for a top-level body.
 */
export function validateForecastRequestAt(body: unknown, defaults: RequestDefaults, base: string): ValidationResult {
  try {
    return { ok: true, value: readRequest(body, defaults, base) }
  } catch (e) {
    return { ok: false, error: asValidationError(e, base) }
  }
}

/** Thrown internally; private so that a value thrown by a caller's getter can never pose as ours. */
class Rejection {
  readonly error: TsfmError
  constructor(error: TsfmError) {
    this.error = error
  }
}

function asValidationError(e: unknown, base: string): TsfmError {
  try {
    if (e instanceof Rejection) return e.error
  } catch {
    // `instanceof` on a hostile Proxy can throw: fall through to the generic error.
  }
  const subject = base === '' ? 'the request body' : base
  return new TsfmError(
    'TSFM_BODY_NOT_OBJECT',
    `${subject} could not be read as plain JSON data (a getter or proxy threw)`,
    base === '' ? null : base,
  )
}

function pathOf(base: string, rel: string): string {
  return base === '' ? rel : `${base}.${rel}`
}

/** `rel` is relative to `base`; the message starts with the full path. */
function reject(code: ErrorCode, base: string, rel: string, what: string): Rejection {
  const path = pathOf(base, rel)
  return new Rejection(new TsfmError(code, `${path} ${what}`, path))
}

function required(base: string, rel: string, value: unknown): Rejection {
  return reject('TSFM_FIELD_REQUIRED', base, rel, `is required, got ${quote(value)}`)
}

/** Own member or undefined: inherited members (a polluted prototype, a class getter) are not read. */
function own(obj: object, key: string): unknown {
  return Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined
}

/** A JSON object: not null, not an array, not a typed array. */
function isRecord(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v)
}

/** A JSON array, or a Float64Array from an embedding caller. */
function isNumberList(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || v instanceof Float64Array
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** `x_past.volume`, or `x_past["bid ask"]` for a name that is not an identifier. */
function memberPath(field: string, name: string): string {
  return IDENTIFIER.test(name) ? `${field}.${name}` : `${field}[${JSON.stringify(name)}]`
}

function readRequest(body: unknown, defaults: RequestDefaults, base: string): ForecastRequest {
  if (!isRecord(body)) {
    const subject = base === '' ? 'the request body' : base
    throw new Rejection(
      new TsfmError('TSFM_BODY_NOT_OBJECT', `${subject} must be a JSON object, got ${quote(body)}`, base === '' ? null : base),
    )
  }

  const market_id = readMarketId(own(body, 'market_id'), base)
  const asOf = own(body, 'as_of_ts')
  const as_of_ms = readAsOfMs(asOf, base)
  const as_of_ts = typeof asOf === 'string' ? asOf : formatIsoUtc(as_of_ms)

  const freqIn = own(body, 'freq')
  const freq = freqIn == null ? defaults.freq : freqIn
  const step_ms = freqStepMs(freq)
  if (step_ms === 0) throw new Rejection(freqError(freq, pathOf(base, 'freq')))

  const horizon_steps = readHorizon(own(body, 'horizon_steps'), defaults, base)
  const quantiles = readQuantiles(own(body, 'quantiles'), defaults, base)
  const transform = readTransform(own(body, 'transform'), defaults, base)
  const y = readY(own(body, 'y'), transform.space === 'logit', base)
  const yTs = own(body, 'y_ts')
  let y_ts: Float64Array | null = null
  let y_ts_zoned = false
  if (yTs != null) {
    const ts = newParsedTimestamp()
    y_ts = readYTs(yTs, y.length, freq as string, step_ms, ts, base)
    y_ts_zoned = ts.zoned
  }
  const max_gap_minutes = readMaxGap(own(body, 'max_gap_minutes'), base)
  const x_past = readCovariates(own(body, 'x_past'), 'x_past', y.length, 'as many as y', base)
  const x_future = readCovariates(own(body, 'x_future'), 'x_future', horizon_steps, 'horizon_steps', base)
  if (x_future !== EMPTY_SERIES) checkFutureHasPast(x_future, x_past, base)
  const model = readModel(own(body, 'model'), defaults, base)

  return {
    market_id,
    as_of_ts,
    as_of_ms,
    freq: freq as string,
    step_ms,
    horizon_steps,
    quantiles,
    y,
    y_ts,
    y_ts_zoned,
    max_gap_minutes,
    x_past,
    x_future,
    transform,
    model,
    liquidity_bucket: readSegment(own(body, 'liquidity_bucket'), 'liquidity_bucket', base),
    category: readSegment(own(body, 'category'), 'category', base),
    tte_bucket: readSegment(own(body, 'tte_bucket'), 'tte_bucket', base),
    rollout_stage: readSegment(own(body, 'rollout_stage'), 'rollout_stage', base),
  }
}

function readMarketId(v: unknown, base: string): string {
  if (v == null) throw required(base, 'market_id', v)
  if (typeof v !== 'string') throw reject('TSFM_FIELD_TYPE', base, 'market_id', `must be a string, got ${quote(v)}`)
  if (v.length < 1 || v.length > LIMITS.market_id_max_chars) {
    throw reject('TSFM_FIELD_RANGE', base, 'market_id', `must be 1 to ${LIMITS.market_id_max_chars} characters long, got ${quote(v)}`)
  }
  return v
}

function readAsOfMs(v: unknown, base: string): number {
  if (v == null) throw required(base, 'as_of_ts', v)
  if (typeof v === 'string') {
    const out = newParsedTimestamp()
    if (parseIsoTimestamp(v, out) && isPlausibleMs(out.ms)) return out.ms
  } else if (typeof v === 'number') {
    const ms = epochSecondsToMs(v)
    if (ms === ms) return ms
    if (isPlausibleMs(v)) {
      throw reject('TSFM_TIMESTAMP', base, 'as_of_ts', `must be epoch *seconds* between 1970 and 2100, got ${quote(v)} (milliseconds?)`)
    }
  }
  throw reject(
    'TSFM_TIMESTAMP',
    base,
    'as_of_ts',
    `must be an ISO-8601 timestamp like "2026-02-20T00:00:00Z" or epoch seconds, between 1970 and 2100, got ${quote(v)}`,
  )
}

function readHorizon(v: unknown, defaults: RequestDefaults, base: string): number {
  if (v == null) return defaults.horizon_steps
  if (typeof v !== 'number' || !Number.isInteger(v) || v < LIMITS.horizon_min || v > LIMITS.horizon_max) {
    throw reject(
      'TSFM_HORIZON',
      base,
      'horizon_steps',
      `must be an integer from ${LIMITS.horizon_min} to ${LIMITS.horizon_max}, got ${quote(v)}`,
    )
  }
  return v
}

function readQuantiles(v: unknown, defaults: RequestDefaults, base: string): readonly number[] {
  if (v == null) return defaults.quantiles
  if (!Array.isArray(v)) {
    throw reject('TSFM_QUANTILES', base, 'quantiles', `must be an array of 1 to ${LIMITS.quantiles_max} numbers in (0, 1), got ${quote(v)}`)
  }
  const n = v.length
  if (n < 1 || n > LIMITS.quantiles_max) {
    throw reject('TSFM_QUANTILES', base, 'quantiles', `must have 1 to ${LIMITS.quantiles_max} items, got ${n}: ${quote(v)}`)
  }
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const q: unknown = v[i]
    if (typeof q !== 'number' || !(q > 0 && q < 1)) {
      throw reject('TSFM_QUANTILES', base, `quantiles[${i}]`, `must be a number strictly between 0 and 1, got ${quote(q)}`)
    }
    for (let j = 0; j < i; j++) {
      if (out[j] === q) {
        throw reject('TSFM_QUANTILES', base, `quantiles[${i}]`, `must be unique, got ${quote(q)} again (also quantiles[${j}])`)
      }
    }
    out.push(q)
  }
  // Sorted on input, as the Python service does; the answer lists them in this order.
  return out.sort((a, b) => a - b)
}

function readTransform(v: unknown, defaults: RequestDefaults, base: string): ForecastRequest['transform'] {
  if (v == null) return defaults.transform
  if (!isRecord(v)) {
    throw reject('TSFM_TRANSFORM', base, 'transform', `must be an object like {"space": "logit", "eps": 1e-6}, got ${quote(v)}`)
  }
  const spaceIn = own(v, 'space')
  const space = spaceIn == null ? defaults.transform.space : spaceIn
  if (space !== 'logit' && space !== 'identity') {
    throw reject('TSFM_TRANSFORM', base, 'transform.space', `must be "logit" or "identity", got ${quote(space)}`)
  }
  const epsIn = own(v, 'eps')
  const eps = epsIn == null ? defaults.transform.eps : epsIn
  if (typeof eps !== 'number' || !(eps > 0 && eps <= LIMITS.eps_max)) {
    throw reject('TSFM_TRANSFORM', base, 'transform.eps', `must be a number in (0, ${LIMITS.eps_max}], got ${quote(eps)}`)
  }
  return { space, eps }
}

function readY(v: unknown, logit: boolean, base: string): Float64Array {
  if (v == null) throw required(base, 'y', v)
  if (!isNumberList(v)) throw reject('TSFM_Y_VALUE', base, 'y', `must be an array of numbers, got ${quote(v)}`)
  const n = v.length
  if (n < LIMITS.y_min_points || n > LIMITS.y_max_points) {
    throw reject('TSFM_Y_LENGTH', base, 'y', `must have ${LIMITS.y_min_points} to ${LIMITS.y_max_points} points, got ${n}`)
  }
  const out = new Float64Array(n)
  // Two specialised loops rather than a range pair: `v - v === 0` rejects NaN and ±Infinity
  // without a call, and the logit range check already excludes both.
  if (logit) {
    for (let i = 0; i < n; i++) {
      const x = v[i]
      if (typeof x !== 'number' || !(x >= 0 && x <= 1)) {
        throw reject('TSFM_Y_VALUE', base, `y[${i}]`, `must be a number in [0, 1] for the logit transform, got ${quote(x)}`)
      }
      out[i] = x
    }
  } else {
    for (let i = 0; i < n; i++) {
      const x = v[i]
      if (typeof x !== 'number' || x - x !== 0) {
        throw reject('TSFM_Y_VALUE', base, `y[${i}]`, `must be a finite number, got ${quote(x)}`)
      }
      out[i] = x
    }
  }
  return out
}

function readYTs(
  v: unknown,
  n: number,
  freq: string,
  stepMs: number,
  ts: ParsedTimestamp,
  base: string,
): Float64Array {
  if (!Array.isArray(v)) {
    throw reject('TSFM_Y_TS', base, 'y_ts', `must be an array of ISO-8601 timestamps or null, got ${quote(v)}`)
  }
  if (v.length !== n) throw reject('TSFM_Y_TS', base, 'y_ts', `must have as many items as y (${n}), got ${v.length}`)
  const out = new Float64Array(n)
  const memo = new DayMemo()
  let zoned = false
  for (let i = 0; i < n; i++) {
    const t: unknown = v[i]
    if (typeof t !== 'string' || !parseSameDayTimestamp(t, ts, memo) || !isPlausibleMs(ts.ms)) {
      throw reject(
        'TSFM_Y_TS',
        base,
        `y_ts[${i}]`,
        `must be an ISO-8601 timestamp like "2026-02-20T00:05:00Z" between 1970 and 2100, got ${quote(t)}`,
      )
    }
    if (i === 0) {
      zoned = ts.zoned
    } else {
      if (ts.zoned !== zoned) {
        const rule = zoned ? 'must carry a zone offset, like y_ts[0]' : 'must carry no zone offset, like y_ts[0]'
        throw reject('TSFM_Y_TS', base, `y_ts[${i}]`, `${rule}, got ${quote(t)}`)
      }
      const gap = ts.ms - out[i - 1]!
      if (gap <= 0) {
        throw reject('TSFM_Y_TS', base, `y_ts[${i}]`, `must be later than y_ts[${i - 1}], got ${quote(t)}`)
      }
      // `%` on these doubles is a libm call (fmod) and most gaps are exactly one step: skipping
      // it took a 288-point body's validation from 22.8 µs to 19.3 µs (mitata, this machine).
      if (gap !== stepMs && gap % stepMs !== 0) {
        throw reject('TSFM_Y_TS', base, `y_ts[${i}]`, `must be a whole number of ${freq} steps after y_ts[${i - 1}], got ${quote(t)}`)
      }
    }
    out[i] = ts.ms
  }
  ts.zoned = zoned
  return out
}

function readMaxGap(v: unknown, base: string): number | null {
  if (v == null) return null
  if (typeof v !== 'number') throw reject('TSFM_FIELD_TYPE', base, 'max_gap_minutes', `must be a number of minutes or null, got ${quote(v)}`)
  if (!(v >= 0) || v - v !== 0) {
    throw reject('TSFM_FIELD_RANGE', base, 'max_gap_minutes', `must be a finite number >= 0, got ${quote(v)}`)
  }
  return v
}

function readCovariates(
  v: unknown,
  field: 'x_past' | 'x_future',
  expected: number,
  expectedLabel: string,
  base: string,
): Readonly<Record<string, Float64Array>> {
  if (v == null) return EMPTY_SERIES
  if (!isRecord(v)) {
    throw reject('TSFM_COVARIATES', base, field, `must be an object of name → number array, got ${quote(v)}`)
  }
  const names = Object.keys(v)
  if (names.length === 0) return EMPTY_SERIES
  if (names.length > LIMITS.covariates_max) {
    throw reject('TSFM_COVARIATES', base, field, `must have at most ${LIMITS.covariates_max} covariates, got ${names.length}`)
  }
  const out = Object.create(null) as Record<string, Float64Array>
  for (const name of names) {
    if (name.length < 1 || name.length > COVARIATE_NAME_MAX_CHARS) {
      throw reject('TSFM_COVARIATES', base, field, `names must be 1 to ${COVARIATE_NAME_MAX_CHARS} characters long, got ${quote(name)}`)
    }
    const arr = own(v, name)
    if (!isNumberList(arr)) {
      throw reject('TSFM_COVARIATES', base, memberPath(field, name), `must be an array of numbers, got ${quote(arr)}`)
    }
    if (arr.length !== expected) {
      throw reject('TSFM_COVARIATES', base, memberPath(field, name), `must have ${expected} values (${expectedLabel}), got ${arr.length}`)
    }
    const series = new Float64Array(expected)
    for (let i = 0; i < expected; i++) {
      const x = arr[i]
      if (typeof x !== 'number' || x - x !== 0) {
        throw reject('TSFM_COVARIATES', base, `${memberPath(field, name)}[${i}]`, `must be a finite number, got ${quote(x)}`)
      }
      series[i] = x
    }
    out[name] = series
  }
  return Object.freeze(out)
}

function checkFutureHasPast(
  future: Readonly<Record<string, Float64Array>>,
  past: Readonly<Record<string, Float64Array>>,
  base: string,
): void {
  for (const name of Object.keys(future)) {
    if (!Object.hasOwn(past, name)) {
      throw reject(
        'TSFM_COVARIATES',
        base,
        memberPath('x_future', name),
        `needs past values in x_past too (tollama requires them), got x_future name ${quote(name)} with no x_past match`,
      )
    }
  }
}

function readModel(v: unknown, defaults: RequestDefaults, base: string): ForecastRequest['model'] {
  if (v == null) return { provider: 'tollama', model_name: defaults.model_name, model_version: null, params: EMPTY_PARAMS }
  if (!isRecord(v)) {
    throw reject('TSFM_MODEL', base, 'model', `must be an object like {"provider": "tollama", "model_name": "chronos2"}, got ${quote(v)}`)
  }
  const provider = readModelString(own(v, 'provider'), 'tollama', 1, PROVIDER_MAX_CHARS, 'model.provider', base)
  const model_name = readModelString(own(v, 'model_name'), defaults.model_name, 1, MODEL_FIELD_MAX_CHARS, 'model.model_name', base)
  const versionIn = own(v, 'model_version')
  const model_version =
    versionIn == null ? null : readModelString(versionIn, '', 0, MODEL_FIELD_MAX_CHARS, 'model.model_version', base)
  return { provider, model_name, model_version, params: readParams(own(v, 'params'), base) }
}

function readModelString(v: unknown, fallback: string, min: number, max: number, rel: string, base: string): string {
  if (v == null) return fallback
  if (typeof v !== 'string' || v.length < min || v.length > max) {
    const what = min === 0 ? `a string of at most ${max} characters` : `a non-empty string of at most ${max} characters`
    throw reject('TSFM_MODEL', base, rel, `must be ${what}, got ${quote(v)}`)
  }
  return v
}

function readParams(v: unknown, base: string): Readonly<Record<string, unknown>> {
  if (v == null) return EMPTY_PARAMS
  if (!isRecord(v)) throw reject('TSFM_MODEL', base, 'model.params', `must be an object, got ${quote(v)}`)
  if (Object.keys(v).length === 0) return EMPTY_PARAMS
  let text: string | undefined
  try {
    text = JSON.stringify(v)
  } catch {
    // A cycle, a BigInt, a throwing getter or too deep a nesting (RangeError).
    throw reject('TSFM_MODEL', base, 'model.params', `must be JSON-serialisable data, got ${quote(v)}`)
  }
  if (text === undefined) throw reject('TSFM_MODEL', base, 'model.params', `must be JSON-serialisable data, got ${quote(v)}`)
  if (text.length > MODEL_PARAMS_MAX_CHARS) {
    throw reject('TSFM_MODEL', base, 'model.params', `must serialise to at most ${MODEL_PARAMS_MAX_CHARS} characters, got ${text.length}`)
  }
  // A detached copy: later mutation by an embedding caller cannot change a cached answer's key.
  const copy = JSON.parse(text) as Record<string, unknown>
  const depth = nestingDepth(copy)
  if (depth > MODEL_PARAMS_MAX_DEPTH) {
    throw reject('TSFM_MODEL', base, 'model.params', `must nest at most ${MODEL_PARAMS_MAX_DEPTH} levels deep, got ${depth}`)
  }
  return copy
}

/** Levels of objects and arrays in parsed JSON (`{}` is 1), without recursion. */
function nestingDepth(root: object): number {
  let max = 0
  const stack: [unknown, number][] = [[root, 1]]
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, depth] = top
    if (depth > max) max = depth
    for (const k in v as object) {
      const child = (v as Record<string, unknown>)[k]
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
    }
  }
  return max
}

function readSegment(v: unknown, rel: string, base: string): string | null {
  if (v == null) return null
  if (typeof v !== 'string') throw reject('TSFM_FIELD_TYPE', base, rel, `must be a string or null, got ${quote(v)}`)
  if (v.length > LIMITS.segment_max_chars) {
    throw reject('TSFM_FIELD_RANGE', base, rel, `must be at most ${LIMITS.segment_max_chars} characters long, got ${quote(v)}`)
  }
  return v
}
