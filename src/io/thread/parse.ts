import type { UpstreamJob } from '../types.js'

/**
 * Validation of a tollama forecast answer and its split by series id (SPEC §3 step 10).
 *
 * Each member of a batch is judged alone: a series missing from the answer, with a requested
 * quantile missing, a path not `horizon` long, or a value that is not a finite number fails only
 * that member (`upstream_invalid_payload`); extra quantiles and extra series are ignored. A body
 * that is not JSON at all (HTML, truncated) fails every member.
 *
 * Python's `json` writes NaN and Infinity as bare literals, which are not JSON. Such a body is
 * re-read with those literals as `null`, so only the series that carry them fail (a NaN in one
 * market's path says nothing about the other 31).
 */

/** Per member, in job order: the values (quantile-major, the job's quantile order) or null. */
export type SeriesAnswers = (Float64Array | null)[]

/** Copy `text`, turning bare `NaN`, `Infinity` and `-Infinity` tokens (outside strings) into `null`. */
export function nonFiniteLiteralsToNull(text: string): string {
  let out = ''
  let from = 0
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i)
        if (d === 92 /* \ */) i++
        else if (d === 34) break
      }
    } else if (c === 78 /* N */ && text.startsWith('NaN', i)) {
      out += text.slice(from, i) + 'null'
      i += 2
      from = i + 1
    } else if (c === 73 /* I */ && text.startsWith('Infinity', i)) {
      const start = i > 0 && text.charCodeAt(i - 1) === 45 /* - */ ? i - 1 : i
      out += text.slice(from, start) + 'null'
      i += 7
      from = i + 1
    }
  }
  return from === 0 ? text : out + text.slice(from)
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    // fall through to the tolerant readings
  }
  if (text.includes('NaN') || text.includes('Infinity')) {
    try {
      return JSON.parse(nonFiniteLiteralsToNull(text))
    } catch {
      // not JSON even then
    }
  }
  // `/api/forecast` streams NDJSON when `stream:false` is ignored: the answer is the last line's
  // `response` (`{"done":true,"response":{...}}`).
  const last = text.trimEnd().lastIndexOf('\n')
  if (last > 0) {
    const tail = parseJson(text.slice(last + 1))
    if (isObject(tail) && tail['done'] === true && isObject(tail['response'])) return tail['response']
  }
  return undefined
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The path of quantile `q` in a `quantiles` object whose keys are decimal strings. */
function quantilePath(paths: Record<string, unknown>, q: number): unknown {
  const direct = paths[String(q)]
  if (direct !== undefined) return direct
  // Python prints some floats differently (1e-07 vs 1e-7): compare as numbers.
  for (const key in paths) if (Number(key) === q) return paths[key]
  return undefined
}

/** Values of one forecast for `job`, or null if anything is missing, short or non-finite. */
function seriesValues(forecast: Record<string, unknown>, job: UpstreamJob): Float64Array | null {
  const paths = forecast['quantiles']
  if (!isObject(paths)) return null
  const h = job.horizon
  const qs = job.quantiles
  const out = new Float64Array(qs.length * h)
  for (let k = 0; k < qs.length; k++) {
    const path = quantilePath(paths, qs[k]!)
    if (!Array.isArray(path) || path.length !== h) return null
    const base = k * h
    for (let t = 0; t < h; t++) {
      const v: unknown = path[t]
      if (typeof v !== 'number' || !Number.isFinite(v)) return null
      out[base + t] = v
    }
  }
  return out
}

/** Split a forecast answer `text` for `jobs` sent under `ids` (same order). */
export function parseForecastAnswer(text: string, jobs: readonly UpstreamJob[], ids: readonly string[]): SeriesAnswers {
  const answers: SeriesAnswers = new Array<Float64Array | null>(jobs.length).fill(null)
  const data = parseJson(text)
  if (!isObject(data) || !Array.isArray(data['forecasts'])) return answers
  // id → forecast; an id answered twice is ambiguous and fails that member.
  const byId = new Map<string, Record<string, unknown> | null>()
  for (const f of data['forecasts'] as unknown[]) {
    if (!isObject(f) || typeof f['id'] !== 'string') continue
    byId.set(f['id'], byId.has(f['id']) ? null : f)
  }
  for (let i = 0; i < jobs.length; i++) {
    const f = byId.get(ids[i]!)
    if (f != null) answers[i] = seriesValues(f, jobs[i]!)
  }
  return answers
}

/** The `detail` string of a tollama error body (`{"detail": "..."}`), or null. */
export function errorDetail(text: string): string | null {
  const data = parseJson(text)
  return isObject(data) && typeof data['detail'] === 'string' ? data['detail'] : null
}
