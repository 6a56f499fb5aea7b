import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { assignSeriesIds, attemptBody, buildForecastBody, LOGIT_TABLES_MAX, LOGIT_TEXT_MAX, logitTableBuilds, logitTextOf } from '../../../../src/io/thread/wire.js'
import { logit, logitSeries } from '../../../../workers/transforms.js'
import { AS_OF_MS, STEP_5M, makeJob } from '../../../helpers/upstream-jobs.js'

interface WireSeries {
  id: string
  freq: string
  timestamps: string[]
  target: number[]
  past_covariates?: Record<string, number[]>
  future_covariates?: Record<string, number[]>
}
interface Wire {
  model: string
  horizon: number
  quantiles: number[]
  series: WireSeries[]
  options?: Record<string, unknown>
  timeout: number
  stream: boolean
}

function wire(jobs = [makeJob()], timeoutMs = 1200): Wire {
  const ids = assignSeriesIds(jobs)
  return JSON.parse(attemptBody(buildForecastBody(jobs, ids), '/api/forecast', timeoutMs)) as Wire
}

describe('buildForecastBody', () => {
  it('writes only the fields tollama accepts, in its shapes', () => {
    const body = wire()
    expect(Object.keys(body)).toEqual(['model', 'horizon', 'quantiles', 'series', 'stream', 'timeout'])
    expect(body.model).toBe('chronos2')
    expect(body.horizon).toBe(12)
    expect(body.quantiles).toEqual([0.1, 0.5, 0.9])
    expect(body.stream).toBe(false)
    expect(body.timeout).toBe(1.2)
    expect(Object.keys(body.series[0]!)).toEqual(['id', 'freq', 'timestamps', 'target'])
  })

  it('writes the horizon as a JSON integer', () => {
    const text = attemptBody(buildForecastBody([makeJob({ horizon: 7 })], ['m']), '/api/forecast', 900)
    expect(text).toContain('"horizon":7,')
  })

  it('sends freq in pandas notation', () => {
    expect(wire([makeJob({ freq: '5m' })]).series[0]!.freq).toBe('5min')
    expect(wire([makeJob({ freq: '1h', step_ms: 3_600_000 })]).series[0]!.freq).toBe('1h')
  })

  it('sends the target in logit space, exactly as logitSeries computes it', () => {
    const job = makeJob({ eps: 1e-4 })
    expect(wire([job]).series[0]!.target).toEqual(Array.from(logitSeries(job.y, 1e-4)))
  })

  it('sends the target as given in identity space', () => {
    const y = Float64Array.from([-3.5, 0, 12.25, 1e-300])
    expect(wire([makeJob({ space: 'identity', y })]).series[0]!.target).toEqual([-3.5, 0, 12.25, 1e-300])
  })

  it('derives timestamps backwards from as_of by the step when y_ts is absent', () => {
    const ts = wire([makeJob({ y: new Float64Array([0.2, 0.3, 0.4]) })]).series[0]!.timestamps
    expect(ts).toEqual(['2026-02-19T23:50:00Z', '2026-02-19T23:55:00Z', '2026-02-20T00:00:00Z'])
  })

  it('takes the timestamps from y_ts when given (never from the wall clock)', () => {
    const y_ts = Float64Array.from([AS_OF_MS - 2 * 3_600_000, AS_OF_MS - STEP_5M, AS_OF_MS])
    const ts = wire([makeJob({ y: new Float64Array([0.2, 0.3, 0.4]), y_ts })]).series[0]!.timestamps
    expect(ts).toEqual(['2026-02-19T22:00:00Z', '2026-02-19T23:55:00Z', '2026-02-20T00:00:00Z'])
  })

  it('gives every series its own timestamps when grids differ within a batch (the list cache)', () => {
    const y3 = new Float64Array([0.2, 0.3, 0.4])
    const y_ts = Float64Array.from([AS_OF_MS - 10 * STEP_5M, AS_OF_MS - STEP_5M, AS_OF_MS])
    const jobs = [
      makeJob({ y: y3 }),
      makeJob({ y: y3 }),
      makeJob({ y: y3, as_of_ms: AS_OF_MS + STEP_5M }),
      makeJob({ y: y3, y_ts }),
      makeJob({ y: y3, y_ts: Float64Array.from([AS_OF_MS - 10 * STEP_5M, AS_OF_MS - 2 * STEP_5M, AS_OF_MS]) }),
      makeJob({ y: y3 }),
      makeJob({ y: new Float64Array([0.3, 0.4]) }),
    ]
    const ts = wire(jobs).series.map((s) => s.timestamps)
    const grid = ['2026-02-19T23:50:00Z', '2026-02-19T23:55:00Z', '2026-02-20T00:00:00Z']
    expect(ts).toEqual([
      grid,
      grid,
      ['2026-02-19T23:55:00Z', '2026-02-20T00:00:00Z', '2026-02-20T00:05:00Z'],
      ['2026-02-19T23:10:00Z', '2026-02-19T23:55:00Z', '2026-02-20T00:00:00Z'],
      ['2026-02-19T23:10:00Z', '2026-02-19T23:50:00Z', '2026-02-20T00:00:00Z'],
      grid,
      grid.slice(1),
    ])
  })

  it('does not reuse timestamps of a y_ts that changed after the last body (the cache holds a copy)', () => {
    const y_ts = Float64Array.from([AS_OF_MS - STEP_5M, AS_OF_MS])
    const job = makeJob({ y: new Float64Array([0.2, 0.3]), y_ts })
    expect(wire([job]).series[0]!.timestamps).toEqual(['2026-02-19T23:55:00Z', '2026-02-20T00:00:00Z'])
    y_ts[0] = AS_OF_MS - 2 * STEP_5M
    expect(wire([job]).series[0]!.timestamps).toEqual(['2026-02-19T23:50:00Z', '2026-02-20T00:00:00Z'])
  })

  it('cuts past covariates to the series and future covariates to the horizon', () => {
    const job = makeJob({
      y: new Float64Array([0.2, 0.3, 0.4]),
      horizon: 2,
      x_past: { vol: Float64Array.from([1, 2, 3, 4, 5]) },
      x_future: { vol: Float64Array.from([6, 7, 8]) },
    })
    const s = wire([job]).series[0]!
    expect(s.past_covariates).toEqual({ vol: [3, 4, 5] })
    expect(s.future_covariates).toEqual({ vol: [6, 7] })
  })

  it('leaves out a future covariate that has no past one (tollama would reject the whole batch)', () => {
    const job = makeJob({
      y: new Float64Array([0.2, 0.3]),
      horizon: 1,
      x_past: { a: Float64Array.from([1, 2]) },
      x_future: { a: Float64Array.from([3]), b: Float64Array.from([4]) },
    })
    const s = wire([job]).series[0]!
    expect(s.future_covariates).toEqual({ a: [3] })
    expect(wire([makeJob({ x_future: { b: Float64Array.from([1]) } })]).series[0]!.future_covariates).toBeUndefined()
  })

  it('sends options only when the params are not empty', () => {
    expect(wire([makeJob({ params: {} })]).options).toBeUndefined()
    expect(wire([makeJob({ params: { temperature: 0.3, num_samples: 20 } })]).options).toEqual({ temperature: 0.3, num_samples: 20 })
  })

  it('carries every job of a group as its own series, in order', () => {
    const jobs = [makeJob({ series_id: 'a' }), makeJob({ series_id: 'b' }), makeJob({ series_id: 'c' })]
    expect(wire(jobs).series.map((s) => s.id)).toEqual(['a', 'b', 'c'])
  })

  it('writes the timeout in seconds as the last field, so retries reuse the prefix', () => {
    const body = buildForecastBody([makeJob()], ['m'])
    expect(attemptBody(body, '/api/forecast', 900).endsWith(',"stream":false,"timeout":0.9}')).toBe(true)
    expect(attemptBody(body, '/api/forecast', 237.4)).toBe(body.prefix + ',"stream":false,"timeout":0.237}')
    // /v1/forecast is strict and has no stream field (tollama's ForecastRequest, extra="forbid").
    expect(attemptBody(body, '/v1/forecast', 900)).toBe(body.prefix + ',"timeout":0.9}')
    expect(body.series).toBe(1)
  })

  it('escapes ids and model names as JSON strings', () => {
    const body = wire([makeJob({ series_id: 'he said "hi"\n', model: 'a\\b' })])
    expect(body.series[0]!.id).toBe('he said "hi"\n')
    expect(body.model).toBe('a\\b')
  })

  it('serialises any finite series exactly as JSON.stringify would (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 50 }), (values) => {
        const y = Float64Array.from(values)
        const text = attemptBody(buildForecastBody([makeJob({ space: 'identity', y })], ['m']), '/api/forecast', 1000)
        const target = (JSON.parse(text) as Wire).series[0]!.target
        expect(target).toEqual(values.map((v) => (Object.is(v, -0) ? 0 : v)))
      }),
    )
  })
})

describe('logitTextOf', () => {
  const exact = (p: number, eps: number): string => String(logit(p, eps))

  it('gives exactly String(logit(p, eps)) for any price, first time and memoised (property)', () => {
    const onGrid = fc.integer({ min: 0, max: 10_000 }).map((k) => k / 10_000)
    const anyPrice = fc.double({ min: 0, max: 1, noNaN: true })
    fc.assert(
      fc.property(fc.oneof(onGrid, anyPrice), fc.constantFrom(1e-6, 1e-4), (p, eps) => {
        expect(logitTextOf(p, eps)).toBe(exact(p, eps))
        expect(logitTextOf(p, eps)).toBe(exact(p, eps))
      }),
      { numRuns: 2000 },
    )
  })

  it('follows a change of eps, also for memoised prices', () => {
    expect(logitTextOf(0, 1e-6)).toBe('-13.815509557963773')
    expect(logitTextOf(0, 1e-3)).toBe(exact(0, 1e-3))
    expect(logitTextOf(0.1234567, 1e-6)).toBe(exact(0.1234567, 1e-6))
    expect(logitTextOf(0.1234567, 1e-3)).toBe(exact(0.1234567, 1e-3))
  })

  it('keeps a table per eps, so alternating eps does not rebuild them', () => {
    logitTextOf(0.5, 1e-6)
    logitTextOf(0.5, 1e-4)
    const builds = logitTableBuilds()
    for (let i = 0; i < 100; i++) {
      expect(logitTextOf(0.25, 1e-6)).toBe(exact(0.25, 1e-6))
      expect(logitTextOf(0.25, 1e-4)).toBe(exact(0.25, 1e-4))
    }
    // Bodies of mixed-eps jobs use the same tables.
    wire([makeJob({ eps: 1e-6 }), makeJob({ eps: 1e-4 }), makeJob({ eps: 1e-6 })])
    expect(logitTableBuilds()).toBe(builds)
  })

  it('keeps at most LOGIT_TABLES_MAX tables, evicting the least recently used', () => {
    const eps = Array.from({ length: LOGIT_TABLES_MAX + 1 }, (_, i) => 1e-3 / (i + 2))
    for (const e of eps.slice(0, LOGIT_TABLES_MAX)) logitTextOf(0.5, e)
    logitTextOf(0.5, eps[0]!)
    const builds = logitTableBuilds()
    // A new eps evicts the least recently used table (eps[1]), not the one just used (eps[0]).
    logitTextOf(0.5, eps[LOGIT_TABLES_MAX]!)
    logitTextOf(0.5, eps[0]!)
    expect(logitTableBuilds()).toBe(builds + 1)
    expect(logitTextOf(0.5, eps[1]!)).toBe(exact(0.5, eps[1]!))
    expect(logitTableBuilds()).toBe(builds + 2)
  })

  it('never mixes the texts of different eps, on or off the grid (property)', () => {
    const price = fc.oneof(fc.integer({ min: 0, max: 10_000 }).map((k) => k / 10_000), fc.double({ min: 0, max: 1, noNaN: true }))
    fc.assert(
      fc.property(fc.array(fc.tuple(price, fc.constantFrom(1e-6, 1e-4, 1e-3, 1e-2, 5e-3)), { minLength: 1, maxLength: 40 }), (calls) => {
        for (const [p, eps] of calls) expect(logitTextOf(p, eps)).toBe(exact(p, eps))
      }),
      { numRuns: 300 },
    )
  })

  it('stays exact past its bound on prices off the 4-decimal grid', () => {
    for (let i = 0; i < LOGIT_TEXT_MAX + 10; i++) {
      const p = (i + 0.5) / (LOGIT_TEXT_MAX + 10)
      if (logitTextOf(p, 1e-6) !== exact(p, 1e-6)) throw new Error(`logitTextOf(${p}) is not exact`)
    }
    expect(logitTextOf(0.123456789, 1e-6)).toBe(exact(0.123456789, 1e-6))
  })
})

describe('assignSeriesIds', () => {
  it('keeps market ids and makes repeats unique within the batch', () => {
    const jobs = ['a', 'b', 'a', 'a', 'a~2'].map((series_id) => makeJob({ series_id }))
    expect(assignSeriesIds(jobs)).toEqual(['a', 'b', 'a~2', 'a~3', 'a~2~2'])
  })
})
