/**
 * The tollama request body for a 32-series batch of 288 points (the hot path of the I/O actor):
 * the string builder in src/io/thread/wire.ts vs the obvious `JSON.stringify` of an object graph, and
 * the two costs inside it — timestamps (`formatIsoUtc` vs `Date#toISOString`) and numbers.
 * Run: node dist/perf/io/wire.bench.js
 */
import { bench, group, run, summary } from 'mitata'
import { formatIsoUtc } from '../../src/io/thread/iso-time.js'
import type { UpstreamJob } from '../../src/io/types.js'
import { assignSeriesIds, attemptBody, buildForecastBody, logitTextOf, numberList } from '../../src/io/thread/wire.js'
import { priceSeries } from '../load/request-mix.js'
import { toPandasFreq } from '../../src/request/freq.js'
import { logit, logitSeries } from '../../workers/transforms.js'
import { saveIoResults } from './results.js'

const SERIES = 32
const POINTS = 288
const AS_OF = Date.UTC(2026, 1, 20)
const STEP = 300_000

function job(t: number, withTs: boolean): UpstreamJob {
  const y = new Float64Array(POINTS)
  for (let i = 0; i < POINTS; i++) y[i] = 0.5 + 0.3 * Math.sin((i + t) / 17)
  let y_ts: Float64Array | null = null
  if (withTs) {
    y_ts = new Float64Array(POINTS)
    for (let i = 0; i < POINTS; i++) y_ts[i] = AS_OF - (POINTS - 1 - i) * STEP
  }
  return {
    ticket: t,
    deadline: 0,
    attempt_timeout_ms: 1200,
    max_retries: 1,
    high: false,
    request_id: null,
    model: 'chronos2',
    horizon: 12,
    quantiles: [0.1, 0.5, 0.9],
    freq: '5m',
    step_ms: STEP,
    as_of_ms: AS_OF,
    params: {},
    series_id: `market-${t}`,
    y,
    y_ts,
    space: 'logit',
    eps: 1e-6,
    x_past: {},
    x_future: {},
  }
}

const grid = Array.from({ length: SERIES }, (_, t) => job(t, false))
const stamped = Array.from({ length: SERIES }, (_, t) => job(t, true))
const ids = assignSeriesIds(grid)

/** The obvious way: an object graph with plain arrays and Date strings, then JSON.stringify. */
function viaStringify(jobs: readonly UpstreamJob[]): string {
  const head = jobs[0]!
  return JSON.stringify({
    model: head.model,
    horizon: head.horizon,
    quantiles: head.quantiles,
    series: jobs.map((j, i) => {
      const n = j.y.length
      const timestamps = new Array<string>(n)
      for (let k = 0; k < n; k++) {
        const ms = j.y_ts !== null ? j.y_ts[k]! : j.as_of_ms - (n - 1 - k) * j.step_ms
        timestamps[k] = new Date(ms).toISOString()
      }
      return { id: ids[i], freq: toPandasFreq(j.freq), timestamps, target: Array.from(logitSeries(j.y, j.eps)) }
    }),
    stream: false,
    timeout: 1.2,
  })
}

const built = attemptBody(buildForecastBody(grid, ids), '/api/forecast', 1200)
console.log(`32 × 288 body: ${(built.length / 1024).toFixed(0)} KiB (JSON.stringify graph: ${(viaStringify(grid).length / 1024).toFixed(0)} KiB)`)

const instants = Array.from({ length: POINTS }, (_, i) => AS_OF - (POINTS - 1 - i) * STEP)
const values = logitSeries(grid[0]!.y, 1e-6)

group('32 series × 288 points → request body', () => {
  summary(() => {
    bench('JSON.stringify of an object graph', () => viaStringify(grid)).baseline(true)
    bench('wire.ts builder, timestamps from the grid', () => attemptBody(buildForecastBody(grid, ids), '/api/forecast', 1200))
    bench('wire.ts builder, timestamps from y_ts', () => attemptBody(buildForecastBody(stamped, ids), '/api/forecast', 1200))
  })
})

group('288 timestamps', () => {
  summary(() => {
    bench('Date#toISOString', () => {
      let s = ''
      for (const ms of instants) s += new Date(ms).toISOString()
      return s
    }).baseline(true)
    bench('formatIsoUtc', () => {
      let s = ''
      for (const ms of instants) s += formatIsoUtc(ms)
      return s
    })
  })
})

// Bytes, as undici sends them: `Buffer.from` of the text is part of the cost (a rope is flattened).
group('288 logit values → request bytes', () => {
  summary(() => {
    bench('String(v) each, grown by += (the previous builder)', () => {
      let s = '['
      for (let i = 0; i < values.length; i++) s += (i === 0 ? '' : ',') + String(values[i])
      return Buffer.from(s + ']')
    }).baseline(true)
    bench('numberList: String(v) each, joined', () => Buffer.from(numberList(values, 0, values.length)))
  })
})

// The targets of 1 000 markets' 288 four-decimal prices, one market per call as requests arrive:
// logit then shortest text per value (the previous path; V8's own number-to-string cache catches
// only some), against the text memoised by price (`logitTextOf`, what wire.ts does now).
const MARKETS = 1000
const prices = Array.from({ length: MARKETS }, (_, m) => Float64Array.from(priceSeries(m % 97, POINTS, 1 + Math.floor(m / 97))))
const parts = new Array<string>(POINTS)
let market = 0
group('288 four-decimal prices of one market → target text (1 000 markets in turn)', () => {
  summary(() => {
    bench('logitSeries, then String(v) each (previous)', () => {
      const z = logitSeries(prices[market++ % MARKETS]!, 1e-6)
      for (let i = 0; i < POINTS; i++) parts[i] = String(z[i])
      return parts.join(',')
    }).baseline(true)
    bench('logitTextOf each (memoised by price)', () => {
      const y = prices[market++ % MARKETS]!
      for (let i = 0; i < POINTS; i++) parts[i] = logitTextOf(y[i]!, 1e-6)
      return parts.join(',')
    })
  })
})

// Requests whose `transform.eps` differ, in turn (1e-6, the default, and 1e-4): the previous memo
// kept one table and rebuilt its 10 001 entries at every change of eps (copied here as it was),
// wire.ts keeps one table per eps (up to LOGIT_TABLES_MAX).
const EPS = [1e-6, 1e-4]
let prevGrid: string[] = new Array<string>(10_001).fill('')
let prevOffGrid = new Map<number, string>()
let prevEps = Number.NaN
function previousLogitTextOf(p: number, eps: number): string {
  if (eps !== prevEps) {
    prevGrid = new Array<string>(10_001).fill('')
    prevOffGrid = new Map()
    prevEps = eps
  }
  const k = Math.round(p * 10_000)
  if (k >= 0 && k <= 10_000 && k / 10_000 === p) {
    let text = prevGrid[k]!
    if (text === '') prevGrid[k] = text = String(logit(p, eps))
    return text
  }
  let text = prevOffGrid.get(p)
  if (text === undefined) {
    text = String(logit(p, eps))
    if (prevOffGrid.size >= 65_536) prevOffGrid.clear()
    prevOffGrid.set(p, text)
  }
  return text
}
group('alternating eps: 288 four-decimal prices of one market → target text, eps 1e-6 and 1e-4 in turn', () => {
  summary(() => {
    bench('logitSeries, then String(v) each (no memo)', () => {
      const m = market++
      const z = logitSeries(prices[m % MARKETS]!, EPS[m & 1]!)
      for (let i = 0; i < POINTS; i++) parts[i] = String(z[i])
      return parts.join(',')
    })
    bench('one table, rebuilt at each change of eps (previous)', () => {
      const m = market++
      const y = prices[m % MARKETS]!
      const eps = EPS[m & 1]!
      for (let i = 0; i < POINTS; i++) parts[i] = previousLogitTextOf(y[i]!, eps)
      return parts.join(',')
    }).baseline(true)
    bench('logitTextOf each (a table per eps)', () => {
      const m = market++
      const y = prices[m % MARKETS]!
      const eps = EPS[m & 1]!
      for (let i = 0; i < POINTS; i++) parts[i] = logitTextOf(y[i]!, eps)
      return parts.join(',')
    })
  })
})

const { benchmarks } = await run()
const rows = benchmarks.flatMap((b) => b.runs.map((r) => ({ name: r.name, avg_ns: r.stats ? Math.round(r.stats.avg) : null })))
console.log(`saved to ${saveIoResults('wire', { body_bytes: built.length, benchmarks: rows })}`)
