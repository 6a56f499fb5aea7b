import { logit } from '../../../workers/transforms.js'
import { toPandasFreq } from '../../request/freq.js'
import { formatIsoUtc } from './iso-time.js'
import type { UpstreamJob } from '../types.js'

/**
 * The tollama request body for a group of jobs that share model, horizon, quantiles, freq and
 * options (tollama-api.md). Only fields tollama accepts are written: its pydantic models forbid
 * unknown keys, so one stray field would fail every series of a batch with a 400.
 *
 * Built by string concatenation rather than `JSON.stringify` of an object graph: the graph needs
 * a plain array per Float64Array and a Date per timestamp: 8.8 ms against 0.44 ms for a 32 × 288
 * batch (384 KiB; perf/io/wire.bench.ts, 2-core dev box). Numbers print exactly as
 * JSON.stringify prints them.
 *
 * The attempt fields (`stream` for `/api/forecast`, `timeout` in seconds) come last so that a retry with a shorter
 * timeout reuses the prefix instead of rebuilding 200 KB of series.
 */
export interface WireBody {
  /** The whole body up to the closing brace, without `stream`/`timeout`; finish with `attemptBody`. */
  readonly prefix: string
  /** Series in the body. */
  readonly series: number
}

/** Series ids for a group: the market ids, suffixed `~2`, `~3`… where one repeats in the batch. */
export function assignSeriesIds(jobs: readonly UpstreamJob[]): string[] {
  const ids = new Array<string>(jobs.length)
  let seen: Set<string> | null = null
  for (let i = 0; i < jobs.length; i++) {
    let id = jobs[i]!.series_id
    if (seen === null) seen = new Set()
    if (seen.has(id)) {
      let n = 2
      while (seen.has(`${id}~${n}`)) n++
      id = `${id}~${n}`
    }
    seen.add(id)
    ids[i] = id
  }
  return ids
}

/** Reused by `numberList` (the I/O thread is single-threaded and the function does not re-enter). */
let parts: string[] = []

/**
 * `values[from..to)` as a JSON array. Joined from a reused array of parts rather than grown by
 * `+=`: `join` returns one flat string, while `+=` builds a rope of ~600 pieces that undici then
 * flattens in `Buffer.from` on the request's path (perf/io/wire.bench.ts, "288 logit values").
 */
export function numberList(values: ArrayLike<number>, from: number, to: number): string {
  const n = to - from
  if (n <= 0) return '[]'
  if (parts.length !== n) parts = new Array<string>(n)
  for (let i = 0; i < n; i++) {
    const v = values[from + i]!
    // Validation keeps values finite; a stray non-finite value must still not produce invalid JSON.
    parts[i] = Number.isFinite(v) ? String(v) : 'null'
  }
  return '[' + parts.join(',') + ']'
}

/**
 * The last timestamp list built, and what it was built from. Markets of one cycle share their
 * time grid (same `as_of`, same freq), so in a 32-series batch 31 lists are a lookup instead of
 * 288 formatted instants (perf/io/wire.bench.ts).
 */
let lastTsText = ''
let lastTsN = -1
let lastTsAsOf = Number.NaN
let lastTsStep = Number.NaN
/** The y_ts the cached list came from (a copy), or null when it came from the grid. */
let lastTsFrom: Float64Array | null = null

function sameInstants(a: Float64Array, off: number, b: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[off + i] !== b[i]) return false
  return true
}

function timestampList(job: UpstreamJob, n: number): string {
  const ts = job.y_ts
  const fromTs = ts !== null && ts.length >= n
  const off = fromTs ? ts.length - n : 0
  if (lastTsN === n) {
    if (fromTs ? lastTsFrom !== null && sameInstants(ts, off, lastTsFrom, n) : lastTsFrom === null && lastTsAsOf === job.as_of_ms && lastTsStep === job.step_ms) {
      return lastTsText
    }
  }
  let s = '['
  if (fromTs) {
    for (let i = 0; i < n; i++) s += (i === 0 ? '"' : ',"') + formatIsoUtc(ts[off + i]!) + '"'
  } else {
    // No y_ts: the grid ends at as_of and steps back by freq; never the wall clock.
    const first = job.as_of_ms - (n - 1) * job.step_ms
    for (let i = 0; i < n; i++) s += (i === 0 ? '"' : ',"') + formatIsoUtc(first + i * job.step_ms) + '"'
  }
  s += ']'
  lastTsText = s
  lastTsN = n
  lastTsAsOf = job.as_of_ms
  lastTsStep = job.step_ms
  lastTsFrom = fromTs ? ts.slice(off, off + n) : null
  return s
}

/**
 * The text of `logit(p, eps)` by `p`, memoised per `eps`. Why: turning a full double into its
 * shortest exact text is the costliest step of a request on the I/O thread (~185 µs for 288
 * logits on a lone request, timed through the daemon), while prices arrive quantised — a feed's
 * ticks, 4 decimals at most in practice — so the same few thousand prices recur in every market
 * and every cycle. A price on the 4-decimal grid (`k / 10 000` exactly, the same double JSON.parse
 * gives for its text) is an index into a table of 10 001 texts; any other price goes through a
 * Map, cleared when it reaches LOGIT_TEXT_MAX entries. The text is exactly `String(logit(p, eps))`
 * (perf/io/wire.bench.ts, "288 four-decimal prices").
 *
 * `eps` comes with each request (`transform.eps`), so traffic may mix a few values: one table per
 * eps, up to LOGIT_TABLES_MAX of them, the least recently used evicted. A single table rebuilt on
 * every change of eps made alternating traffic slower than no memo at all (perf/io/wire.bench.ts,
 * "alternating eps").
 */
const GRID = 10_000
export const LOGIT_TEXT_MAX = 65_536
export const LOGIT_TABLES_MAX = 4

/** The memoised texts of one eps: the 4-decimal grid by index, other prices by value. */
class LogitTexts {
  readonly eps: number
  readonly grid: string[]
  readonly offGrid: Map<number, string>

  constructor(eps: number) {
    this.eps = eps
    this.grid = new Array<string>(GRID + 1).fill('')
    this.offGrid = new Map()
  }
}

/** Most recently used first; a job's values all use its table, so lookups hit the head. */
const tables: LogitTexts[] = []
let tableBuilds = 0

/** Tables built so far (tests: alternating eps must not rebuild). */
export function logitTableBuilds(): number {
  return tableBuilds
}

function tableOf(eps: number): LogitTexts {
  const head = tables[0]
  if (head !== undefined && head.eps === eps) return head
  for (let i = 1; i < tables.length; i++) {
    const t = tables[i]!
    if (t.eps !== eps) continue
    tables.copyWithin(1, 0, i)
    tables[0] = t
    return t
  }
  const t = new LogitTexts(eps)
  tableBuilds++
  if (tables.length >= LOGIT_TABLES_MAX) tables.pop()
  tables.unshift(t)
  return t
}

function logitJson(p: number, eps: number): string {
  const z = logit(p, eps)
  return Number.isFinite(z) ? String(z) : 'null'
}

function textIn(t: LogitTexts, p: number): string {
  const k = Math.round(p * GRID)
  if (k >= 0 && k <= GRID && k / GRID === p) {
    let text = t.grid[k]!
    if (text === '') t.grid[k] = text = logitJson(p, t.eps)
    return text
  }
  let text = t.offGrid.get(p)
  if (text === undefined) {
    text = logitJson(p, t.eps)
    if (t.offGrid.size >= LOGIT_TEXT_MAX) t.offGrid.clear()
    t.offGrid.set(p, text)
  }
  return text
}

/** `logit(p, eps)` as JSON text, memoised (see above). */
export function logitTextOf(p: number, eps: number): string {
  return textIn(tableOf(eps), p)
}

function targetList(job: UpstreamJob): string {
  const y = job.y
  const n = y.length
  if (job.space !== 'logit') return numberList(y, 0, n)
  if (n === 0) return '[]'
  if (parts.length !== n) parts = new Array<string>(n)
  const texts = tableOf(job.eps)
  for (let i = 0; i < n; i++) parts[i] = textIn(texts, y[i]!)
  return '[' + parts.join(',') + ']'
}

/**
 * `past_covariates` cut to the last `n` values and `future_covariates` cut to the horizon.
 * A covariate too short to cut, and a future covariate without a past one, are left out: tollama
 * would reject the whole multi-series request for one member's covariates.
 */
function covariateFields(job: UpstreamJob, n: number, horizon: number): string {
  let past = ''
  let sent: Set<string> | null = null
  for (const name in job.x_past) {
    const v = job.x_past[name]!
    if (v.length < n) continue
    past += (past === '' ? '' : ',') + JSON.stringify(name) + ':' + numberList(v, v.length - n, v.length)
    ;(sent ??= new Set()).add(name)
  }
  if (past === '') return ''
  let future = ''
  for (const name in job.x_future) {
    const v = job.x_future[name]!
    if (!sent!.has(name) || v.length < horizon) continue
    future += (future === '' ? '' : ',') + JSON.stringify(name) + ':' + numberList(v, 0, horizon)
  }
  return ',"past_covariates":{' + past + '}' + (future === '' ? '' : ',"future_covariates":{' + future + '}')
}

function hasKeys(o: Readonly<Record<string, unknown>>): boolean {
  for (const _ in o) return true
  return false
}

/** The body for `jobs` (one group: same model, horizon, quantiles, freq, params) under `ids`. */
export function buildForecastBody(jobs: readonly UpstreamJob[], ids: readonly string[]): WireBody {
  const head = jobs[0]!
  const freq = JSON.stringify(toPandasFreq(head.freq))
  let s =
    '{"model":' + JSON.stringify(head.model) +
    ',"horizon":' + String(head.horizon) +
    ',"quantiles":' + numberList(head.quantiles, 0, head.quantiles.length) +
    ',"series":['
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!
    const n = job.y.length
    s +=
      (i === 0 ? '{"id":' : ',{"id":') + JSON.stringify(ids[i]) +
      ',"freq":' + freq +
      ',"timestamps":' + timestampList(job, n) +
      ',"target":' + targetList(job) +
      covariateFields(job, n, job.horizon) + '}'
  }
  s += ']'
  if (hasKeys(head.params)) s += ',"options":' + JSON.stringify(head.params)
  return { prefix: s, series: jobs.length }
}

/**
 * The complete body of one attempt on `path`, with its timeout (tollama takes seconds).
 * `/api/forecast` streams NDJSON unless the body says `"stream": false`; `/v1/forecast` has no
 * `stream` field and, being strict (pydantic extra="forbid", tollama `daemon/app.py`'s
 * `ApiForecastRequest` vs `ForecastRequest`), would refuse it with a 400.
 */
export function attemptBody(body: WireBody, path: string, timeoutMs: number): string {
  const stream = path === '/api/forecast' ? ',"stream":false' : ''
  return body.prefix + stream + ',"timeout":' + String(Math.max(0.001, Math.round(timeoutMs) / 1000)) + '}'
}
