import { pyRepr } from './python-format.js'

/**
 * tollama-strict validation of a forecast body, answering what FastAPI + pydantic v2 (strict
 * models, `extra="forbid"`) answer: a 400 whose `detail` lists `{type, loc, msg, input, ctx?}`
 * issues, in the order pydantic reports them (fields in declaration order, then extra fields;
 * model-level rules only once every field is valid). Source: tollama `core/schemas.py` and
 * `daemon/app.py` (`ApiForecastRequest`, `ForecastRequestWithKeepAlive`).
 *
 * Known differences (a simulator, not a port): Python's `json` accepts `NaN`/`Infinity`, this
 * parser rejects them as `json_invalid`; at most MAX_ISSUES issues are listed; a horizon above
 * MAX_HORIZON is refused so that a test cannot make the simulator allocate without bound.
 */

export type Loc = readonly (string | number)[]

export interface ValidationIssue {
  readonly type: string
  readonly loc: Loc
  readonly msg: string
  readonly input: unknown
  readonly ctx?: Readonly<Record<string, unknown>>
}

export interface SimSeriesInput {
  readonly id: string
  readonly freq: string
  readonly timestamps: readonly string[]
  readonly target: readonly number[]
}

export interface SimForecastRequest {
  readonly model: string
  readonly horizon: number
  readonly quantiles: readonly number[]
  readonly series: readonly SimSeriesInput[]
  /** Default true: only `/api/forecast` honours it (NDJSON unless false). */
  readonly stream: boolean
}

export type ValidationResult =
  | { readonly ok: true; readonly request: SimForecastRequest }
  | { readonly ok: false; readonly issues: readonly ValidationIssue[] }

export const MAX_ISSUES = 1000
export const MAX_HORIZON = 100_000

const TOP_LEVEL_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'horizon',
  'quantiles',
  'series',
  'options',
  'timeout',
  'parameters',
  'response_options',
  'keep_alive',
  'stream',
])
/**
 * `/v1/forecast` takes tollama's plain `ForecastRequest` (pydantic, extra="forbid"): `stream` is a
 * field of the Ollama-style `ApiForecastRequest` only (tollama `daemon/app.py`), so there it is
 * refused as an extra field.
 */
const V1_TOP_LEVEL_FIELDS: ReadonlySet<string> = new Set([...TOP_LEVEL_FIELDS].filter((f) => f !== 'stream'))
const SERIES_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'freq',
  'timestamps',
  'target',
  'actuals',
  'past_covariates',
  'future_covariates',
  'static_covariates',
])
const METRIC_NAMES = ['mape', 'mase', 'mae', 'rmse', 'smape', 'wape', 'rmsse', 'pinball'] as const

type Obj = Record<string, unknown>

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function has(o: Obj, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key)
}

function literalList(values: readonly string[]): string {
  const quoted = values.map((v) => pyRepr(v))
  return quoted.length === 1 ? (quoted[0] as string) : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`
}

class Issues {
  readonly list: ValidationIssue[] = []

  add(type: string, loc: Loc, msg: string, input: unknown, ctx?: Readonly<Record<string, unknown>>): void {
    if (this.list.length >= MAX_ISSUES) return
    this.list.push(ctx === undefined ? { type, loc, msg, input } : { type, loc, msg, input, ctx })
  }

  get count(): number {
    return this.list.length
  }

  missing(loc: Loc, container: unknown): void {
    this.add('missing', loc, 'Field required', container)
  }

  /** `NonEmptyStr`; true when valid. */
  nonEmptyStr(v: unknown, loc: Loc): boolean {
    if (typeof v !== 'string') {
      this.add('string_type', loc, 'Input should be a valid string', v)
      return false
    }
    if (v.length === 0) {
      this.add('string_too_short', loc, 'String should have at least 1 character', v, { min_length: 1 })
      return false
    }
    return true
  }

  /** `StrictInt` with `gt=0`. `floatToken`: the JSON text was `12.0` / `1e3` (not an int). */
  positiveInt(v: unknown, loc: Loc, floatToken = false): boolean {
    if (typeof v !== 'number' || !Number.isInteger(v) || floatToken) {
      this.add('int_type', loc, 'Input should be a valid integer', v)
      return false
    }
    if (v <= 0) {
      this.add('greater_than', loc, 'Input should be greater than 0', v, { gt: 0 })
      return false
    }
    return true
  }

  bool(v: unknown, loc: Loc): boolean {
    if (typeof v !== 'boolean') {
      this.add('bool_type', loc, 'Input should be a valid boolean', v)
      return false
    }
    return true
  }

  /** `list[...]`; true when `v` is an array (items are checked by the caller). */
  list_(v: unknown, loc: Loc, minLength = 0): v is unknown[] {
    if (!Array.isArray(v)) {
      this.add('list_type', loc, 'Input should be a valid list', v)
      return false
    }
    if (v.length < minLength) {
      this.add('too_short', loc, `List should have at least ${minLength} item after validation, not ${v.length}`, v, {
        field_type: 'List',
        min_length: minLength,
        actual_length: v.length,
      })
      return false
    }
    return true
  }

  /** `list[StrictInt | StrictFloat]`: every bad item reports both union members. */
  numbers(v: unknown, loc: Loc, minLength: number): boolean {
    if (!this.list_(v, loc, minLength)) return false
    let ok = true
    for (let i = 0; i < v.length; i++) {
      const x = v[i]
      if (typeof x !== 'number') {
        ok = false
        this.add('int_type', [...loc, i, 'int'], 'Input should be a valid integer', x)
        this.add('float_type', [...loc, i, 'float'], 'Input should be a valid number', x)
      }
    }
    return ok
  }

  /** `dict[NonEmptyStr, ...]` keys; true when `v` is an object with valid keys. */
  dict(v: unknown, loc: Loc): v is Obj {
    if (!isObject(v)) {
      this.add('dict_type', loc, 'Input should be a valid dictionary', v)
      return false
    }
    let ok = true
    for (const key of Object.keys(v)) {
      if (key.length === 0) {
        ok = false
        this.add('string_too_short', [...loc, key, '[key]'], 'String should have at least 1 character', key, { min_length: 1 })
      }
    }
    return ok
  }

  /** A nested strict model: must be an object. */
  model(v: unknown, loc: Loc, className: string): v is Obj {
    if (!isObject(v)) {
      this.add('model_type', loc, `Input should be a valid dictionary or instance of ${className}`, v, { class_name: className })
      return false
    }
    return true
  }

  extras(o: Obj, known: ReadonlySet<string>, loc: Loc): void {
    for (const key of Object.keys(o)) {
      if (!known.has(key)) this.add('extra_forbidden', [...loc, key], 'Extra inputs are not permitted', o[key])
    }
  }

  valueError(loc: Loc, message: string, input: unknown): void {
    this.add('value_error', loc, `Value error, ${message}`, input, { error: message })
  }
}

// ---- covariates ------------------------------------------------------------------------------

type CovariateKind = 'numeric' | 'categorical'

/** `dict[NonEmptyStr, list[StrictInt | StrictFloat | StrictStr]] | None`. */
function checkCovariates(issues: Issues, v: unknown, loc: Loc): void {
  if (v === null || v === undefined) return
  if (!issues.dict(v, loc)) return
  for (const [name, values] of Object.entries(v)) {
    const at = [...loc, name]
    if (!issues.list_(values, at)) continue
    for (let i = 0; i < values.length; i++) {
      const x = values[i]
      if (typeof x !== 'number' && typeof x !== 'string') {
        issues.add('int_type', [...at, i, 'int'], 'Input should be a valid integer', x)
        issues.add('float_type', [...at, i, 'float'], 'Input should be a valid number', x)
        issues.add('string_type', [...at, i, 'str'], 'Input should be a valid string', x)
      }
    }
  }
}

/** tollama's `_covariate_kind`: an error message, or the kind. */
function covariateKind(values: readonly unknown[]): CovariateKind | string {
  if (values.length === 0) return 'must not be empty'
  let numeric = false
  let text = false
  for (const x of values) {
    if (typeof x === 'string') text = true
    else numeric = true
  }
  if (numeric && text) return 'must contain either only numeric values or only string values'
  return text ? 'categorical' : 'numeric'
}

function isKind(k: string): k is CovariateKind {
  return k === 'numeric' || k === 'categorical'
}

// ---- series ----------------------------------------------------------------------------------

/** Field checks of one `SeriesInput`; true when every field is valid. */
function checkSeriesFields(issues: Issues, s: Obj, loc: Loc): boolean {
  const before = issues.count
  if (!has(s, 'id')) issues.missing([...loc, 'id'], s)
  else issues.nonEmptyStr(s.id, [...loc, 'id'])
  if (has(s, 'freq')) issues.nonEmptyStr(s.freq, [...loc, 'freq'])
  if (!has(s, 'timestamps')) issues.missing([...loc, 'timestamps'], s)
  else if (issues.list_(s.timestamps, [...loc, 'timestamps'], 1)) {
    const ts = s.timestamps as unknown[]
    for (let i = 0; i < ts.length; i++) issues.nonEmptyStr(ts[i], [...loc, 'timestamps', i])
  }
  if (!has(s, 'target')) issues.missing([...loc, 'target'], s)
  else issues.numbers(s.target, [...loc, 'target'], 1)
  if (has(s, 'actuals') && s.actuals !== null) issues.numbers(s.actuals, [...loc, 'actuals'], 0)
  checkCovariates(issues, s.past_covariates, [...loc, 'past_covariates'])
  checkCovariates(issues, s.future_covariates, [...loc, 'future_covariates'])
  if (has(s, 'static_covariates') && s.static_covariates !== null) issues.dict(s.static_covariates, [...loc, 'static_covariates'])
  issues.extras(s, SERIES_FIELDS, loc)
  return issues.count === before
}

/** `SeriesInput.validate_lengths`: the first broken rule, or null. */
function seriesLengthRule(s: Obj): string | null {
  const expected = (s.timestamps as unknown[]).length
  if ((s.target as unknown[]).length !== expected) return 'target length must match timestamps length'
  const past = s.past_covariates as Obj | null | undefined
  if (past) {
    for (const [name, values] of Object.entries(past)) {
      const kind = covariateKind(values as unknown[])
      if (!isKind(kind)) return `past_covariates[${pyRepr(name)}] ${kind}`
      if ((values as unknown[]).length !== expected) return `past_covariates[${pyRepr(name)}] length must match timestamps length`
    }
  }
  const future = s.future_covariates as Obj | null | undefined
  if (future) {
    for (const [name, values] of Object.entries(future)) {
      const kind = covariateKind(values as unknown[])
      if (!isKind(kind)) return `future_covariates[${pyRepr(name)}] ${kind}`
    }
  }
  return null
}

// ---- top-level sub-models ----------------------------------------------------------------------

function checkParameters(issues: Issues, v: unknown, loc: Loc): void {
  if (!issues.model(v, loc, 'ForecastParameters')) return
  if (has(v, 'covariates_mode')) {
    const mode = v.covariates_mode
    if (mode !== 'best_effort' && mode !== 'strict') {
      const expected = literalList(['best_effort', 'strict'])
      issues.add('literal_error', [...loc, 'covariates_mode'], `Input should be ${expected}`, mode, { expected })
    }
  }
  if (has(v, 'timesfm') && v.timesfm !== null && issues.model(v.timesfm, [...loc, 'timesfm'], 'TimesFMParameters')) {
    const t = v.timesfm
    const at = [...loc, 'timesfm']
    if (has(t, 'xreg_mode')) issues.nonEmptyStr(t.xreg_mode, [...at, 'xreg_mode'])
    if (has(t, 'ridge') && typeof t.ridge !== 'number') {
      issues.add('int_type', [...at, 'ridge', 'int'], 'Input should be a valid integer', t.ridge)
      issues.add('float_type', [...at, 'ridge', 'float'], 'Input should be a valid number', t.ridge)
    }
    if (has(t, 'force_on_cpu')) issues.bool(t.force_on_cpu, [...at, 'force_on_cpu'])
    issues.extras(t, new Set(['xreg_mode', 'ridge', 'force_on_cpu']), at)
  }
  if (has(v, 'metrics') && v.metrics !== null && issues.model(v.metrics, [...loc, 'metrics'], 'MetricsParameters')) {
    const m = v.metrics
    const at = [...loc, 'metrics']
    if (!has(m, 'names')) issues.missing([...at, 'names'], m)
    else if (issues.list_(m.names, [...at, 'names'], 1)) {
      const names = m.names as unknown[]
      const before = issues.count
      const expected = literalList(METRIC_NAMES)
      for (let i = 0; i < names.length; i++) {
        if (!(METRIC_NAMES as readonly unknown[]).includes(names[i])) {
          issues.add('literal_error', [...at, 'names', i], `Input should be ${expected}`, names[i], { expected })
        }
      }
      if (issues.count === before && new Set(names).size !== names.length) {
        issues.valueError([...at, 'names'], 'metrics.names must be unique', names)
      }
    }
    if (has(m, 'mase_seasonality')) issues.positiveInt(m.mase_seasonality, [...at, 'mase_seasonality'])
    issues.extras(m, new Set(['names', 'mase_seasonality']), at)
  }
  issues.extras(v, new Set(['covariates_mode', 'timesfm', 'metrics']), loc)
}

function checkResponseOptions(issues: Issues, v: unknown, loc: Loc): void {
  if (!issues.model(v, loc, 'ResponseOptions')) return
  if (has(v, 'narrative')) issues.bool(v.narrative, [...loc, 'narrative'])
  if (has(v, 'explain')) issues.bool(v.explain, [...loc, 'explain'])
  issues.extras(v, new Set(['narrative', 'explain']), loc)
}

function checkQuantiles(issues: Issues, v: unknown, loc: Loc): void {
  if (!issues.list_(v, loc)) return
  const before = issues.count
  for (let i = 0; i < v.length; i++) {
    const q = v[i]
    if (typeof q !== 'number') issues.add('float_type', [...loc, i], 'Input should be a valid number', q)
    else if (!(q > 0)) issues.add('greater_than', [...loc, i], 'Input should be greater than 0', q, { gt: 0.0 })
    else if (!(q < 1)) issues.add('less_than', [...loc, i], 'Input should be less than 1', q, { lt: 1.0 })
  }
  if (issues.count !== before) return
  const qs = v as number[]
  for (let i = 1; i < qs.length; i++) {
    if ((qs[i] as number) < (qs[i - 1] as number)) {
      issues.valueError(loc, 'quantiles must be sorted in ascending order', v)
      return
    }
  }
  if (new Set(qs).size !== qs.length) issues.valueError(loc, 'quantiles must be unique', v)
}

/** `ForecastRequest.validate_covariates`: the first broken rule, or null. */
function requestCovariateRule(body: Obj, horizon: number): string | null {
  const metrics = isObject(body.parameters) ? body.parameters.metrics : undefined
  for (const s of body.series as Obj[]) {
    const past = (s.past_covariates ?? {}) as Obj
    const future = (s.future_covariates ?? {}) as Obj
    for (const [name, values] of Object.entries(future)) {
      if ((values as unknown[]).length !== horizon) {
        return `future_covariates[${pyRepr(name)}] length must match horizon (${horizon})`
      }
    }
    const futureOnly = Object.keys(future)
      .filter((name) => !has(past, name))
      .sort()
    if (futureOnly.length > 0) {
      return `future_covariates must also exist in past_covariates; missing past values for covariate ${pyRepr(futureOnly[0] as string)}`
    }
    for (const name of Object.keys(past)) {
      if (!has(future, name)) continue
      const pastKind = covariateKind(past[name] as unknown[])
      const futureKind = covariateKind(future[name] as unknown[])
      if (pastKind !== futureKind) {
        return `covariate type must be consistent between past and future values; covariate ${pyRepr(name)} has past=${pastKind} future=${futureKind}`
      }
    }
    if (metrics !== undefined && metrics !== null) {
      const actuals = s.actuals as unknown[] | null | undefined
      if (actuals === undefined || actuals === null) {
        return `series.actuals is required when parameters.metrics is provided; missing for series ${pyRepr(s.id as string)}`
      }
      if (actuals.length !== horizon) {
        return `series ${pyRepr(s.id as string)} actuals length must match horizon (${horizon}) when parameters.metrics is provided`
      }
    }
  }
  return null
}

// ---- entry points ------------------------------------------------------------------------------

const BODY: Loc = ['body']

/**
 * Validates a decoded body. `horizonFloatToken` says the JSON text of `horizon` was a float
 * literal (`12.0`), which JSON.parse cannot tell from `12` but pydantic's StrictInt refuses.
 */
export function validateForecastRequest(body: unknown, horizonFloatToken = false, streamable = true): ValidationResult {
  const issues = new Issues()
  if (body === null || body === undefined) {
    issues.missing(BODY, null)
    return { ok: false, issues: issues.list }
  }
  if (!isObject(body)) {
    issues.add('model_attributes_type', BODY, 'Input should be a valid dictionary or object to extract fields from', body)
    return { ok: false, issues: issues.list }
  }

  if (!has(body, 'model')) issues.missing([...BODY, 'model'], body)
  else issues.nonEmptyStr(body.model, [...BODY, 'model'])

  if (!has(body, 'horizon')) issues.missing([...BODY, 'horizon'], body)
  else if (issues.positiveInt(body.horizon, [...BODY, 'horizon'], horizonFloatToken) && (body.horizon as number) > MAX_HORIZON) {
    // Not a tollama rule: the simulator's own bound on what one request may make it allocate.
    issues.add('less_than_equal', [...BODY, 'horizon'], `Input should be less than or equal to ${MAX_HORIZON}`, body.horizon, {
      le: MAX_HORIZON,
    })
  }

  if (has(body, 'quantiles')) checkQuantiles(issues, body.quantiles, [...BODY, 'quantiles'])

  if (!has(body, 'series')) issues.missing([...BODY, 'series'], body)
  else if (issues.list_(body.series, [...BODY, 'series'], 1)) {
    const list = body.series as unknown[]
    for (let i = 0; i < list.length; i++) {
      const loc = [...BODY, 'series', i]
      const s = list[i]
      if (!issues.model(s, loc, 'SeriesInput') || !checkSeriesFields(issues, s, loc)) continue
      const rule = seriesLengthRule(s)
      if (rule !== null) issues.valueError(loc, rule, s)
    }
  }

  if (has(body, 'options')) issues.dict(body.options, [...BODY, 'options'])

  if (has(body, 'timeout') && body.timeout !== null) {
    const t = body.timeout
    if (typeof t !== 'number') issues.add('float_type', [...BODY, 'timeout'], 'Input should be a valid number', t)
    else if (!(t > 0)) issues.add('greater_than', [...BODY, 'timeout'], 'Input should be greater than 0', t, { gt: 0.0 })
  }

  if (has(body, 'parameters')) checkParameters(issues, body.parameters, [...BODY, 'parameters'])
  if (has(body, 'response_options')) checkResponseOptions(issues, body.response_options, [...BODY, 'response_options'])

  if (has(body, 'keep_alive') && body.keep_alive !== null) {
    const k = body.keep_alive
    if (typeof k !== 'string' && typeof k !== 'number') {
      issues.add('string_type', [...BODY, 'keep_alive', 'str'], 'Input should be a valid string', k)
      issues.add('int_type', [...BODY, 'keep_alive', 'int'], 'Input should be a valid integer', k)
      issues.add('float_type', [...BODY, 'keep_alive', 'float'], 'Input should be a valid number', k)
    }
  }

  if (streamable && has(body, 'stream')) issues.bool(body.stream, [...BODY, 'stream'])

  issues.extras(body, streamable ? TOP_LEVEL_FIELDS : V1_TOP_LEVEL_FIELDS, BODY)

  if (issues.count > 0) return { ok: false, issues: issues.list }

  const horizon = body.horizon as number
  const rule = requestCovariateRule(body, horizon)
  if (rule !== null) {
    issues.valueError(BODY, rule, body)
    return { ok: false, issues: issues.list }
  }

  const series = (body.series as Obj[]).map(
    (s): SimSeriesInput => ({
      id: s.id as string,
      freq: has(s, 'freq') ? (s.freq as string) : 'auto',
      timestamps: s.timestamps as string[],
      target: s.target as number[],
    }),
  )
  return {
    ok: true,
    request: {
      model: body.model as string,
      horizon,
      quantiles: has(body, 'quantiles') ? (body.quantiles as number[]) : [],
      series,
      stream: has(body, 'stream') ? (body.stream as boolean) : true,
    },
  }
}

/** V8's JSON.parse messages → the `json.JSONDecodeError.msg` Python gives for the same fault. */
const PY_JSON_ERRORS: readonly (readonly [RegExp, string])[] = [
  [/Expected property name/, 'Expecting property name enclosed in double quotes'],
  [/Expected ',' or/, "Expecting ',' delimiter"],
  [/Expected ':'/, "Expecting ':' delimiter"],
  [/Unterminated string/, 'Unterminated string starting at'],
  [/Bad control character/, 'Invalid control character at'],
  [/non-whitespace character after JSON/, 'Extra data'],
]

/** FastAPI's answer to a body that is not JSON: `json_invalid` at the failing character. */
function jsonInvalid(text: string, error: unknown): ValidationResult {
  const message = error instanceof Error ? error.message : String(error)
  const at = /position (\d+)/.exec(message)
  // V8 names no position for an unexpected token; 0 then (the client only needs the type).
  const pos = at !== null ? Number(at[1]) : /end of JSON input/.test(message) ? text.length : 0
  let reason = 'Expecting value'
  for (const [re, py] of PY_JSON_ERRORS) {
    if (re.test(message)) {
      reason = py
      break
    }
  }
  return {
    ok: false,
    issues: [{ type: 'json_invalid', loc: ['body', pos], msg: 'JSON decode error', input: {}, ctx: { error: reason } }],
  }
}

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i

/**
 * Decodes then validates a raw body as FastAPI would: an empty body is a missing body; a
 * content type that is present and not JSON leaves the body as bytes (refused as not a dict).
 */
export function parseForecastBody(text: string, contentType: string | undefined, streamable = true): ValidationResult {
  if (text.length === 0) return validateForecastRequest(undefined, false, streamable)
  if (contentType !== undefined && contentType !== '' && !JSON_CONTENT_TYPE.test(contentType)) {
    return validateForecastRequest(text, false, streamable)
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (e) {
    return jsonInvalid(text, e)
  }
  const floatToken = isObject(body) && typeof body.horizon === 'number' && horizonIsFloatLiteral(text)
  return validateForecastRequest(body, floatToken, streamable)
}

// ---- the raw horizon token ---------------------------------------------------------------------

const HORIZON_TOKEN = /"horizon"\s*:\s*(-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)/g

/**
 * True when the top-level `horizon` was written as a float literal (`12.0`, `1e1`). A regex finds
 * every `"horizon": <number>` cheaply; only when one of them looks like a float, or a key may be
 * written with `\u` escapes (both rare), does an exact scan of the top-level object decide.
 */
export function horizonIsFloatLiteral(text: string): boolean {
  // A key spelled with escapes (`"horizo\u006e"`) escapes the regex: scan exactly then.
  let suspicious = text.includes('\\u')
  HORIZON_TOKEN.lastIndex = 0
  for (let m = suspicious ? null : HORIZON_TOKEN.exec(text); m !== null; m = HORIZON_TOKEN.exec(text)) {
    if (/[.eE]/.test(m[1] as string)) {
      suspicious = true
      break
    }
  }
  if (!suspicious) return false
  const raw = topLevelRawValue(text, 'horizon')
  return raw !== null && /[.eE]/.test(raw)
}

function skipWs(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break
    i++
  }
  return i
}

/** Index just past the string starting at `i` (a `"`). */
function skipString(text: string, i: number): number {
  i++
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === 0x5c) i += 2
    else if (c === 0x22) return i + 1
    else i++
  }
  return i
}

/** Index just past the JSON value starting at `i`. */
function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i)
  if (c === 0x22) return skipString(text, i)
  if (c === 0x7b || c === 0x5b) {
    let depth = 0
    while (i < text.length) {
      const d = text.charCodeAt(i)
      if (d === 0x22) {
        i = skipString(text, i)
        continue
      }
      if (d === 0x7b || d === 0x5b) depth++
      else if (d === 0x7d || d === 0x5d) {
        depth--
        if (depth === 0) return i + 1
      }
      i++
    }
    return i
  }
  while (i < text.length) {
    const d = text.charCodeAt(i)
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break
    i++
  }
  return i
}

/** The raw text of the last top-level `key` of a JSON object (as JSON.parse keeps the last). */
export function topLevelRawValue(text: string, key: string): string | null {
  let i = skipWs(text, 0)
  if (text.charCodeAt(i) !== 0x7b) return null
  i++
  let found: string | null = null
  while (i < text.length) {
    i = skipWs(text, i)
    if (text.charCodeAt(i) !== 0x22) return found
    const keyEnd = skipString(text, i)
    const rawKey = text.slice(i, keyEnd)
    const name = rawKey.includes('\\') ? (JSON.parse(rawKey) as string) : rawKey.slice(1, -1)
    i = skipWs(text, keyEnd)
    if (text.charCodeAt(i) !== 0x3a) return found
    i = skipWs(text, i + 1)
    const end = skipValue(text, i)
    if (name === key) found = text.slice(i, end)
    i = skipWs(text, end)
    if (text.charCodeAt(i) !== 0x2c) return found
    i++
  }
  return found
}
