import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cacheKey, canonicalJson, encodeKeyBytes } from '../../../src/cache/key.js'
import type { ForecastRequest } from '../../../src/request/types.js'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** A validated request; every call returns new objects and arrays with the same contents. */
function request(over: Partial<Mutable<ForecastRequest>> = {}): ForecastRequest {
  return {
    market_id: 'm-1',
    as_of_ts: '2026-02-20T00:00:00Z',
    as_of_ms: 1_771_545_600_000,
    freq: '5m',
    step_ms: 300_000,
    horizon_steps: 12,
    quantiles: [0.1, 0.5, 0.9],
    y: Float64Array.from([0.1, 0.2, 0.3, 0.4]),
    y_ts: Float64Array.from([1_771_544_700_000, 1_771_545_000_000, 1_771_545_300_000, 1_771_545_600_000]),
    y_ts_zoned: true,
    max_gap_minutes: null,
    x_past: {},
    x_future: {},
    transform: { space: 'logit', eps: 1e-6 },
    model: { provider: 'tollama', model_name: 'chronos2', model_version: null, params: {} },
    liquidity_bucket: 'high',
    category: 'politics',
    tte_bucket: '1d',
    rollout_stage: null,
    ...over,
  }
}

const BASE = cacheKey(request())

describe('cacheKey', () => {
  it('is a 44-character base64 SHA-256', () => {
    expect(BASE).toMatch(/^[A-Za-z0-9+/]{43}=$/)
  })

  it('is equal for equal requests built from different objects', () => {
    expect(cacheKey(request())).toBe(BASE)
    expect(cacheKey(request({ y: new Float64Array(new Float64Array([9, 0.1, 0.2, 0.3, 0.4]).buffer, 8, 4) }))).toBe(BASE)
  })

  it.each<[string, Partial<Mutable<ForecastRequest>>]>([
    ['market_id', { market_id: 'm-2' }],
    ['as_of_ts', { as_of_ts: '2026-02-20T00:00:00+00:00' }],
    ['freq', { freq: '1h' }],
    ['horizon_steps', { horizon_steps: 13 }],
    ['quantiles', { quantiles: [0.1, 0.5, 0.95] }],
    ['quantiles (count)', { quantiles: [0.1, 0.5] }],
    ['y (one value)', { y: Float64Array.from([0.1, 0.2, 0.3, 0.41]) }],
    ['y (length)', { y: Float64Array.from([0.1, 0.2, 0.3]) }],
    ['y_ts (one instant)', { y_ts: Float64Array.from([1, 1_771_545_000_000, 1_771_545_300_000, 1_771_545_600_000]) }],
    ['y_ts (absent)', { y_ts: null }],
    ['y_ts zone offsets', { y_ts_zoned: false }],
    ['max_gap_minutes', { max_gap_minutes: 60 }],
    ['x_past', { x_past: { volume: Float64Array.from([1, 2, 3, 4]) } }],
    ['x_future', { x_future: { volume: Float64Array.from([1, 2]) } }],
    ['transform.space', { transform: { space: 'identity', eps: 1e-6 } }],
    ['transform.eps', { transform: { space: 'logit', eps: 1e-4 } }],
    ['model.provider', { model: { provider: 'other', model_name: 'chronos2', model_version: null, params: {} } }],
    ['model.model_name', { model: { provider: 'tollama', model_name: 'timesfm', model_version: null, params: {} } }],
    ['model.model_version', { model: { provider: 'tollama', model_name: 'chronos2', model_version: '1', params: {} } }],
    ['model.params', { model: { provider: 'tollama', model_name: 'chronos2', model_version: null, params: { seed: 1 } } }],
    ['liquidity_bucket', { liquidity_bucket: 'low' }],
    ['liquidity_bucket (null)', { liquidity_bucket: null }],
    ['category', { category: 'sports' }],
    ['tte_bucket', { tte_bucket: null }],
  ])('changes when %s changes', (_field, over) => {
    expect(cacheKey(request(over))).not.toBe(BASE)
  })

  it('ignores rollout_stage, a metric label only', () => {
    expect(cacheKey(request({ rollout_stage: 'canary' }))).toBe(BASE)
  })

  it('ignores the derived as_of_ms and step_ms (they follow from as_of_ts and freq)', () => {
    expect(cacheKey(request({ as_of_ms: 0, step_ms: 1 }))).toBe(BASE)
  })

  it('ignores the order of model params keys, at every depth', () => {
    const a = { provider: 'tollama', model_name: 'chronos2', model_version: null, params: { a: 1, b: { x: [1, { q: 2, p: 1 }], y: 2 } } }
    const b = { provider: 'tollama', model_name: 'chronos2', model_version: null, params: { b: { y: 2, x: [1, { p: 1, q: 2 }] }, a: 1 } }
    expect(cacheKey(request({ model: a }))).toBe(cacheKey(request({ model: b })))
  })

  it('ignores the order of covariate names', () => {
    const v = Float64Array.from([1, 2, 3, 4])
    const w = Float64Array.from([5, 6, 7, 8])
    expect(cacheKey(request({ x_past: { a: v, b: w } }))).toBe(cacheKey(request({ x_past: { b: w, a: v } })))
    expect(cacheKey(request({ x_past: { a: v, b: w } }))).not.toBe(cacheKey(request({ x_past: { a: w, b: v } })))
  })

  it('tells apart a covariate in x_past from the same one in x_future', () => {
    const v = Float64Array.from([1, 2, 3, 4])
    expect(cacheKey(request({ x_past: { v } }))).not.toBe(cacheKey(request({ x_future: { v } })))
  })

  it('tells apart adjacent strings that only a length prefix keeps apart', () => {
    expect(cacheKey(request({ market_id: 'a', as_of_ts: 'bc' }))).not.toBe(cacheKey(request({ market_id: 'ab', as_of_ts: 'c' })))
    expect(cacheKey(request({ as_of_ts: 'T', freq: '5m' }))).not.toBe(cacheKey(request({ as_of_ts: 'T5', freq: 'm' })))
    expect(cacheKey(request({ category: 'x', tte_bucket: null }))).not.toBe(cacheKey(request({ category: null, tte_bucket: 'x' })))
  })

  it('tells apart y [0.1, 0.2] from y [0.1] followed by the same bytes elsewhere', () => {
    const twoPoints = request({ y: Float64Array.from([0.1, 0.2]), y_ts: null })
    const onePoint = request({ y: Float64Array.from([0.1]), y_ts: null, max_gap_minutes: 0.2 })
    expect(cacheKey(twoPoints)).not.toBe(cacheKey(onePoint))
  })

  it('tells apart arrays whose bytes, run together, would read the same', () => {
    // Without array length prefixes these two would encode to identical bytes:
    //   A: y = [0.1, X], then tag 1, zoned 1, y_ts = [T]
    //   B: y = [0.1],    then tag 1, zoned 1, y_ts = [U, T]
    // with X's bytes = 01 01 U[0..5] and U[6] = U[7] = 01.
    const f64 = (bytes: number[]): number => new Float64Array(new Uint8Array(bytes).buffer)[0] as number
    const x = f64([1, 1, 0, 0, 0, 0, 0, 0])
    const u = f64([0, 0, 0, 0, 0, 0, 1, 1])
    const t = 1_771_545_600_000
    const a = request({ y: Float64Array.from([0.1, x]), y_ts: Float64Array.from([t]), y_ts_zoned: true })
    const b = request({ y: Float64Array.from([0.1]), y_ts: Float64Array.from([u, t]), y_ts_zoned: true })
    expect(cacheKey(a)).not.toBe(cacheKey(b))
  })

  it('tells apart lone surrogates, which UTF-8 would both turn into U+FFFD', () => {
    expect(cacheKey(request({ market_id: '\ud800' }))).not.toBe(cacheKey(request({ market_id: '\udc00' })))
  })

  it('gives -0 and 0 different keys: a needless miss, never a wrong hit', () => {
    expect(cacheKey(request({ y: Float64Array.from([-0, 0.2, 0.3, 0.4]) }))).not.toBe(
      cacheKey(request({ y: Float64Array.from([0, 0.2, 0.3, 0.4]) })),
    )
  })

  it('hashes y_ts on a regular grid as first instant, step and count', () => {
    const grid = Float64Array.from({ length: 288 }, (_, i) => 1_771_459_500_000 + i * 300_000)
    const onGrid = request({ y: new Float64Array(288).fill(0.5), y_ts: grid })
    const offGrid = request({ y: new Float64Array(288).fill(0.5), y_ts: grid.map((t, i) => (i === 287 ? t + 1 : t)) })
    expect(encodeKeyBytes(offGrid).length - encodeKeyBytes(onGrid).length).toBe(8 * 288 + 4 - 20)
    expect(cacheKey(onGrid)).not.toBe(cacheKey(offGrid))
    expect(cacheKey(request({ y: new Float64Array(288).fill(0.5), y_ts: grid.slice() }))).toBe(cacheKey(onGrid))
  })

  it('tells apart grids that differ only in the sign of a zero instant', () => {
    expect(cacheKey(request({ y_ts: Float64Array.from([-0, 5, 10, 15]) }))).not.toBe(cacheKey(request({ y_ts: Float64Array.from([0, 5, 10, 15]) })))
    expect(cacheKey(request({ y_ts: Float64Array.from([-0, -0, -0, -0]) }))).not.toBe(cacheKey(request({ y_ts: Float64Array.from([-0, 0, 0, 0]) })))
  })

  it('gives a y_ts the same key whether or not it lies on a grid only when the arrays are equal', () => {
    const instants = fc.array(fc.constantFrom(-0, 0, 1, 2, 3, 4, 0.1, 0.2, 0.30000000000000004, 0.3, Number.MAX_VALUE, -Number.MAX_VALUE), { minLength: 0, maxLength: 5 })
    fc.assert(
      fc.property(instants, instants, (a, b) => {
        const ka = cacheKey(request({ y_ts: Float64Array.from(a) }))
        const kb = cacheKey(request({ y_ts: Float64Array.from(b) }))
        const same = a.length === b.length && a.every((v, i) => Object.is(v, b[i]))
        expect(ka === kb).toBe(same)
      }),
      { numRuns: 3000 },
    )
  })

  it('keys a request larger than the scratch buffer, and smaller ones after it', () => {
    const big = new Float64Array(20_000).map((_, i) => (i % 100) / 100)
    const huge = request({ y: big, y_ts: null, x_past: { a: big, b: big } })
    const k1 = cacheKey(huge)
    expect(cacheKey(request({ y: big.slice(), y_ts: null, x_past: { a: big.slice(), b: big.slice() } }))).toBe(k1)
    expect(cacheKey(request({ y: big.slice(0, 19_999), y_ts: null, x_past: { a: big, b: big } }))).not.toBe(k1)
    expect(cacheKey(request())).toBe(BASE)
  })
})

describe('encodeKeyBytes', () => {
  // The property behind collision resistance: the hashed bytes are equal exactly when the
  // requests are equal in every keyed field (the hash then only has to be a good hash).
  const str = fc.constantFrom('', 'a', 'ab', 'b', '\ud800')
  const optStr = fc.option(str)
  const arr = fc.array(fc.constantFrom(0.1, 0.2, 0.5), { maxLength: 3 }).map((a) => Float64Array.from(a))
  const rec = fc.dictionary(fc.constantFrom('a', 'b'), arr)
  const req = fc.record({
    market_id: str,
    as_of_ts: str,
    freq: fc.constantFrom('5m', '1h'),
    horizon_steps: fc.constantFrom(1, 2),
    quantiles: fc.constantFrom([0.5], [0.1, 0.5], [0.5, 0.9]),
    y: arr,
    y_ts: fc.option(arr),
    y_ts_zoned: fc.boolean(),
    max_gap_minutes: fc.option(fc.constantFrom(0.1, 0.2)),
    x_past: rec,
    x_future: rec,
    eps: fc.constantFrom(1e-6, 1e-4),
    model_version: optStr,
    params: fc.constantFrom({}, { a: 1 }, { a: 'b' }),
    liquidity_bucket: optStr,
    category: optStr,
    tte_bucket: optStr,
  })
  const fieldNames = [
    'market_id', 'as_of_ts', 'freq', 'horizon_steps', 'quantiles', 'y', 'y_ts', 'y_ts_zoned', 'max_gap_minutes',
    'x_past', 'x_future', 'eps', 'model_version', 'params', 'liquidity_bucket', 'category', 'tte_bucket',
  ] as const
  const build = (r: typeof req extends fc.Arbitrary<infer T> ? T : never): ForecastRequest =>
    request({
      market_id: r.market_id,
      as_of_ts: r.as_of_ts,
      freq: r.freq,
      horizon_steps: r.horizon_steps,
      quantiles: r.quantiles,
      y: r.y,
      y_ts: r.y_ts,
      y_ts_zoned: r.y_ts_zoned,
      max_gap_minutes: r.max_gap_minutes,
      x_past: r.x_past,
      x_future: r.x_future,
      transform: { space: 'logit', eps: r.eps },
      model: { provider: 'tollama', model_name: 'chronos2', model_version: r.model_version, params: r.params },
      liquidity_bucket: r.liquidity_bucket,
      category: r.category,
      tte_bucket: r.tte_bucket,
    })
  const fields = (r: ForecastRequest): string =>
    JSON.stringify({
      ...r,
      as_of_ms: 0,
      step_ms: 0,
      rollout_stage: null,
      y_ts_zoned: r.y_ts === null ? null : r.y_ts_zoned,
      model: { ...r.model, params: canonicalJson(r.model.params) },
      y: Array.from(r.y),
      y_ts: r.y_ts && Array.from(r.y_ts),
      x_past: canonicalJson(Object.fromEntries(Object.entries(r.x_past).map(([k, v]) => [k, Array.from(v)]))),
      x_future: canonicalJson(Object.fromEntries(Object.entries(r.x_future).map(([k, v]) => [k, Array.from(v)]))),
    })

  it('produces equal bytes exactly for requests equal in every keyed field', () => {
    // Most pairs differ in one field only, often by a value that turns out equal; the rest in all.
    let equalPairs = 0
    fc.assert(
      fc.property(req, req, fc.option(fc.constantFrom(...fieldNames)), (ra, rb, only) => {
        const a = build(ra)
        const b = build(only === null ? rb : { ...ra, [only]: rb[only] })
        const bytesA = Buffer.from(encodeKeyBytes(a)) // copy: the next call reuses the scratch
        const bytesB = Buffer.from(encodeKeyBytes(b))
        expect(bytesA.equals(bytesB)).toBe(fields(a) === fields(b))
        if (bytesA.equals(bytesB)) equalPairs++
      }),
      { numRuns: 2000 },
    )
    expect(equalPairs).toBeGreaterThan(100) // the property was exercised on both sides
  })

  it('leaves y_ts_zoned out when there is no y_ts', () => {
    expect(cacheKey(request({ y_ts: null, y_ts_zoned: true }))).toBe(cacheKey(request({ y_ts: null, y_ts_zoned: false })))
  })
})

describe('canonicalJson', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [3, { d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[3,{"c":2,"d":1}]}')
  })

  it('leaves out undefined members, as JSON.stringify does', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}')
  })
})
