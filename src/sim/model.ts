import { formatTimestamp, freqAlias, freqStepMs, parseTimestamp } from './freq.js'
import { normalQuantile } from '../../workers/normal.js'
import { pyFloatStr, pyRepr } from './python-format.js'
import type { SimForecastRequest, SimSeriesInput } from './validate.js'

/**
 * The simulator's deterministic "model" — a fixture, not a forecaster. For each series, with
 * `last` its last target value, `H` the horizon and `h` = 1..H:
 *
 *   mean[h]        = last
 *   quantile_q[h]  = last + spread · z(q) · sqrt(h / H)
 *
 * z is the standard normal quantile (AS241, shared with the baseline: workers/normal.ts), so the median is `last` exactly,
 * bands are symmetric, ordered, and widen like a random walk to `spread · z(q)` at the horizon.
 * The runner sends logit-space values, so `spread` is a logit offset per unit z.
 */

export interface SeriesForecast {
  id: string
  freq: string
  start_timestamp: string
  mean: number[]
  quantiles: Record<string, number[]> | null
}

export interface ForecastResponse {
  model: string
  forecasts: SeriesForecast[]
  timing: { model_load_ms: number; inference_ms: number; total_ms: number }
  usage: { horizon: number; runner: string; series_count: number }
  metrics: null
  explanation: null
  narrative: null
  preprocessing: null
  warnings: null
}

export type ModelResult = { readonly ok: true; readonly forecasts: SeriesForecast[] } | { readonly ok: false; readonly detail: string }

/** `offsets[k * H + (h - 1)] = z(q_k) · sqrt(h / H)`: shared by every series of one request. */
function bandOffsets(quantiles: readonly number[], horizon: number, spread: number): Float64Array {
  const out = new Float64Array(quantiles.length * horizon)
  for (let k = 0; k < quantiles.length; k++) {
    const z = spread * normalQuantile(quantiles[k] as number)
    for (let h = 1; h <= horizon; h++) out[k * horizon + h - 1] = z * Math.sqrt(h / horizon)
  }
  return out
}

/** `start_timestamp` and the answered `freq`: one step after the last timestamp. */
function placeInTime(s: SimSeriesInput): { start: string; freq: string } | string {
  const n = s.timestamps.length
  const last = parseTimestamp(s.timestamps[n - 1] as string)
  if (last === null) {
    return `series ${pyRepr(s.id)}: invalid timestamp ${pyRepr(s.timestamps[n - 1] as string)}`
  }
  let step = s.freq === 'auto' ? null : freqStepMs(s.freq)
  let freq = s.freq
  if (step === null && n >= 2) {
    // `auto` and calendar aliases: the step between the last two timestamps.
    const prev = parseTimestamp(s.timestamps[n - 2] as string)
    if (prev === null) return `series ${pyRepr(s.id)}: invalid timestamp ${pyRepr(s.timestamps[n - 2] as string)}`
    if (prev.ms < last.ms) {
      step = last.ms - prev.ms
      if (freq === 'auto') freq = freqAlias(step)
    }
  }
  return { start: formatTimestamp(last.ms + (step ?? 0), last.zoned), freq }
}

export function runModel(request: SimForecastRequest, spread: number): ModelResult {
  const { horizon, quantiles } = request
  const keys = quantiles.map(pyFloatStr)
  const offsets = bandOffsets(quantiles, horizon, spread)
  const forecasts: SeriesForecast[] = new Array(request.series.length)
  for (let i = 0; i < request.series.length; i++) {
    const s = request.series[i] as SimSeriesInput
    const time = placeInTime(s)
    if (typeof time === 'string') return { ok: false, detail: time }
    const last = s.target[s.target.length - 1] as number
    const mean = new Array<number>(horizon).fill(last)
    let bands: Record<string, number[]> | null = null
    if (quantiles.length > 0) {
      bands = {}
      for (let k = 0; k < keys.length; k++) {
        const path = new Array<number>(horizon)
        for (let h = 0; h < horizon; h++) path[h] = last + (offsets[k * horizon + h] as number)
        bands[keys[k] as string] = path
      }
    }
    forecasts[i] = { id: s.id, freq: time.freq, start_timestamp: time.start, mean, quantiles: bands }
  }
  return { ok: true, forecasts }
}
