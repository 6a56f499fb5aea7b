/**
 * Request validation of a 288-point body (one day of 5-minute points, the default input length):
 * fully defaulted vs fully specified, with JSON.parse of the same text for scale, and the
 * single-pass Float64Array loop vs the obvious `every()` + `Float64Array.from()` alternative.
 *
 *   npx tsc -p tsconfig.json && node dist/perf/request/validate.bench.js
 */
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import { DEFAULTS } from '../../src/config/defaults.js'
import { defaultsFromConfig, validateForecastRequest } from '../../src/request/validate.js'

const N = 288
const AS_OF_MS = Date.UTC(2026, 1, 20)
const defaults = defaultsFromConfig(DEFAULTS)

const y: number[] = []
const yTs: string[] = []
const volume: number[] = []
for (let i = 0; i < N; i++) {
  y.push(0.5 + 0.4 * Math.sin(i / 7))
  yTs.push(`${new Date(AS_OF_MS - (N - 1 - i) * 300_000).toISOString().slice(0, 19)}Z`)
  volume.push(1000 + i)
}

const defaultedText = JSON.stringify({ market_id: 'm-1', as_of_ts: '2026-02-20T00:00:00Z', y })
const specifiedText = JSON.stringify({
  market_id: 'm-1',
  as_of_ts: '2026-02-20T00:00:00Z',
  freq: '5m',
  horizon_steps: 12,
  quantiles: [0.9, 0.1, 0.5],
  y,
  y_ts: yTs,
  max_gap_minutes: 5,
  x_past: { volume },
  x_future: { volume: volume.slice(0, 12) },
  transform: { space: 'logit', eps: 1e-6 },
  model: { provider: 'tollama', model_name: 'chronos2', model_version: null, params: {} },
  liquidity_bucket: 'high',
  category: 'politics',
})
const defaulted: unknown = JSON.parse(defaultedText)
const specified: unknown = JSON.parse(specifiedText)
const specifiedNoTs: unknown = { ...(specified as Record<string, unknown>), y_ts: null }

for (const body of [defaulted, specified]) {
  const r = validateForecastRequest(body, defaults)
  if (!r.ok) throw r.error
}

/** The obvious alternative for `y`: a predicate closure per element, then a second pass to copy. */
function naiveY(values: unknown): Float64Array | null {
  if (!Array.isArray(values)) return null
  if (!values.every((v) => typeof v === 'number' && v >= 0 && v <= 1)) return null
  return Float64Array.from(values as number[])
}

/** Our loop, written out here so the comparison isolates the y pass. */
function singlePassY(values: unknown): Float64Array | null {
  if (!Array.isArray(values)) return null
  const n = values.length
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const x: unknown = values[i]
    if (typeof x !== 'number' || !(x >= 0 && x <= 1)) return null
    out[i] = x
  }
  return out
}

group('validate a 288-point body', () => {
  summary(() => {
    bench('fully defaulted', () => do_not_optimize(validateForecastRequest(defaulted, defaults)))
    bench('fully specified, no y_ts', () => do_not_optimize(validateForecastRequest(specifiedNoTs, defaults)))
    bench('fully specified (y_ts, covariates)', () => do_not_optimize(validateForecastRequest(specified, defaults)))
  })
})

group('for scale: JSON.parse of the same bodies', () => {
  bench('JSON.parse defaulted', () => do_not_optimize(JSON.parse(defaultedText)))
  bench('JSON.parse fully specified', () => do_not_optimize(JSON.parse(specifiedText)))
})

group('y → Float64Array (288 points)', () => {
  summary(() => {
    bench('every() + Float64Array.from (alternative)', () => do_not_optimize(naiveY(y)))
    bench('single pass (ours)', () => do_not_optimize(singlePassY(y)))
  })
})

await run()
