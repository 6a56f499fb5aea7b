import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULTS } from '../../../src/config/defaults.js'
import type { TsfmConfig } from '../../../src/config/types.js'
import type { ForecastRequest } from '../../../src/request/types.js'
import { defaultsFromConfig, validateForecastRequest } from '../../../src/request/validate.js'
import { AS_OF_MS, fiveMinuteStamps, fullBody, minimalBody, probabilities, STOCK_DEFAULTS } from '../../helpers/request-bodies.js'

function accept(body: unknown): ForecastRequest {
  const r = validateForecastRequest(body, STOCK_DEFAULTS)
  if (!r.ok) throw new Error(`unexpected rejection: ${r.error.code} ${r.error.message}`)
  return r.value
}

describe('validateForecastRequest accepts', () => {
  it('a minimal body and fills every default from the config', () => {
    const v = accept(minimalBody(8))
    expect(v.market_id).toBe('m-1')
    expect(v.as_of_ts).toBe('2026-02-20T00:00:00Z')
    expect(v.as_of_ms).toBe(AS_OF_MS)
    expect(v.freq).toBe('5m')
    expect(v.step_ms).toBe(300_000)
    expect(v.horizon_steps).toBe(12)
    expect(v.quantiles).toEqual([0.1, 0.5, 0.9])
    expect(v.y).toEqual(new Float64Array(probabilities(8)))
    expect(v.y_ts).toBeNull()
    expect(v.y_ts_zoned).toBe(false)
    expect(v.max_gap_minutes).toBeNull()
    expect(Object.keys(v.x_past)).toEqual([])
    expect(Object.keys(v.x_future)).toEqual([])
    expect(v.transform).toEqual({ space: 'logit', eps: 1e-6 })
    expect(v.model).toEqual({ provider: 'tollama', model_name: 'chronos2', model_version: null, params: {} })
    expect([v.liquidity_bucket, v.category, v.tte_bucket, v.rollout_stage]).toEqual([null, null, null, null])
  })

  it('null for every optional field as its default', () => {
    const body = minimalBody(8)
    for (const k of ['freq', 'horizon_steps', 'quantiles', 'y_ts', 'max_gap_minutes', 'x_past', 'x_future', 'transform', 'model']) {
      body[k] = null
    }
    body['liquidity_bucket'] = null
    const v = accept(body)
    expect([v.freq, v.horizon_steps, v.quantiles, v.y_ts, v.max_gap_minutes]).toEqual(['5m', 12, [0.1, 0.5, 0.9], null, null])
    expect(v.transform).toEqual({ space: 'logit', eps: 1e-6 })
    expect(v.model.model_name).toBe('chronos2')
  })

  it('null members of transform and model as their defaults', () => {
    const body = minimalBody(8)
    body['transform'] = { space: null, eps: null }
    body['model'] = { provider: null, model_name: null, model_version: null, params: null }
    const v = accept(body)
    expect(v.transform).toEqual({ space: 'logit', eps: 1e-6 })
    expect(v.model).toEqual({ provider: 'tollama', model_name: 'chronos2', model_version: null, params: {} })
  })

  it('defaults taken from a non-stock config', () => {
    const config: TsfmConfig = {
      ...DEFAULTS,
      freq: '1h',
      horizon_steps: 24,
      quantiles: [0.9, 0.05, 0.5],
      transform: { space: 'identity', eps: 1e-4 },
      adapter: { ...DEFAULTS.adapter, model: 'timesfm' },
    }
    const r = validateForecastRequest(minimalBody(4), defaultsFromConfig(config))
    if (!r.ok) throw r.error
    expect([r.value.freq, r.value.step_ms, r.value.horizon_steps]).toEqual(['1h', 3_600_000, 24])
    expect(r.value.quantiles).toEqual([0.05, 0.5, 0.9])
    expect(r.value.transform).toEqual({ space: 'identity', eps: 1e-4 })
    expect(r.value.model.model_name).toBe('timesfm')
  })

  it('unsorted quantiles, sorted ascending', () => {
    const body = minimalBody()
    body['quantiles'] = [0.9, 0.1, 0.5, 0.25, 0.75]
    expect(accept(body).quantiles).toEqual([0.1, 0.25, 0.5, 0.75, 0.9])
  })

  it('any set of 1 to 20 quantiles, not only 0.1/0.5/0.9', () => {
    const body = minimalBody()
    body['quantiles'] = [0.5]
    expect(accept(body).quantiles).toEqual([0.5])
    const twenty = Array.from({ length: 20 }, (_, i) => (20 - i) / 21)
    body['quantiles'] = twenty
    expect(accept(body).quantiles).toEqual([...twenty].sort((a, b) => a - b))
  })

  it('epoch seconds for as_of_ts and echoes them in ISO form', () => {
    const body = minimalBody()
    body['as_of_ts'] = 1771545600
    const v = accept(body)
    expect(v.as_of_ms).toBe(AS_OF_MS)
    expect(v.as_of_ts).toBe('2026-02-20T00:00:00Z')
    body['as_of_ts'] = 1771545600.25
    const w = accept(body)
    expect(w.as_of_ms).toBe(AS_OF_MS + 250)
    expect(w.as_of_ts).toBe('2026-02-20T00:00:00.250Z')
  })

  it('an ISO as_of_ts with an offset and echoes it exactly as given', () => {
    const body = minimalBody()
    body['as_of_ts'] = '2026-02-20T01:00:00+01:00'
    const v = accept(body)
    expect(v.as_of_ts).toBe('2026-02-20T01:00:00+01:00')
    expect(v.as_of_ms).toBe(AS_OF_MS)
  })

  it('an unzoned as_of_ts with a space separator as UTC', () => {
    const body = minimalBody()
    body['as_of_ts'] = '2026-02-20 00:00:00.000000'
    expect(accept(body).as_of_ms).toBe(AS_OF_MS)
  })

  it('zoned y_ts, converting offsets to UTC epoch ms', () => {
    const body = minimalBody(3)
    body['y_ts'] = ['2026-02-19T23:50:00Z', '2026-02-20T00:55:00+01:00', '2026-02-19T19:00:00-05:00']
    const v = accept(body)
    expect(v.y_ts).toEqual(new Float64Array([AS_OF_MS - 600_000, AS_OF_MS - 300_000, AS_OF_MS]))
    expect(v.y_ts_zoned).toBe(true)
  })

  it('unzoned y_ts as UTC and reports them unzoned', () => {
    const body = minimalBody(3)
    body['y_ts'] = fiveMinuteStamps(3, '')
    const v = accept(body)
    expect(v.y_ts).toEqual(new Float64Array([AS_OF_MS - 600_000, AS_OF_MS - 300_000, AS_OF_MS]))
    expect(v.y_ts_zoned).toBe(false)
  })

  it('y_ts gaps that are several freq steps wide (missing points)', () => {
    const body = minimalBody(3)
    body['y_ts'] = ['2026-02-19T22:00:00Z', '2026-02-19T22:05:00Z', '2026-02-20T00:00:00Z']
    expect(accept(body).y_ts?.[2]).toBe(AS_OF_MS)
  })

  it('a y_ts that ends before as_of_ts (a mismatch is not rejected, as in the Python service)', () => {
    const body = minimalBody(2)
    body['y_ts'] = ['2026-02-19T10:00:00Z', '2026-02-19T10:05:00Z']
    const v = accept(body)
    expect(v.as_of_ms - (v.y_ts?.[1] ?? 0)).toBe(50_100_000)
  })

  it('any finite y, negative or above 1, in identity space', () => {
    const body = minimalBody(3)
    body['y'] = [-1e300, 0, 42.5]
    body['transform'] = { space: 'identity' }
    const v = accept(body)
    expect(Array.from(v.y)).toEqual([-1e300, 0, 42.5])
    expect(v.transform).toEqual({ space: 'identity', eps: 1e-6 })
  })

  it('the bounds 0 and 1 in logit space, and exactly 2 and 20 000 points', () => {
    const body = minimalBody()
    body['y'] = [0, 1]
    expect(Array.from(accept(body).y)).toEqual([0, 1])
    body['y'] = probabilities(20_000)
    expect(accept(body).y.length).toBe(20_000)
  })

  it('horizon_steps written 12.0 (a JSON integer) and the bounds 1 and 1000', () => {
    expect(accept(JSON.parse('{"market_id":"m","as_of_ts":1771545600,"y":[0.1,0.2],"horizon_steps":12.0}')).horizon_steps).toBe(12)
    const body = minimalBody()
    body['horizon_steps'] = 1
    expect(accept(body).horizon_steps).toBe(1)
    body['horizon_steps'] = 1000
    expect(accept(body).horizon_steps).toBe(1000)
  })

  it('hour freqs and their step', () => {
    const body = minimalBody(2)
    body['freq'] = '2h'
    body['y_ts'] = ['2026-02-19T22:00:00Z', '2026-02-20T00:00:00Z']
    const v = accept(body)
    expect([v.freq, v.step_ms]).toEqual(['2h', 7_200_000])
  })

  it('a fully specified body, with covariates in null-prototype records', () => {
    const v = accept(fullBody(8))
    expect(v.quantiles).toEqual([0.1, 0.5, 0.9])
    expect(v.y_ts?.length).toBe(8)
    expect(v.max_gap_minutes).toBe(5)
    expect(Object.getPrototypeOf(v.x_past)).toBeNull()
    expect(v.x_past['volume']).toEqual(new Float64Array(probabilities(8)))
    expect(v.x_future['volume']).toEqual(new Float64Array(probabilities(12)))
    expect(v.model).toEqual({ provider: 'tollama', model_name: 'chronos2', model_version: 'v1', params: { num_samples: 20 } })
    expect([v.liquidity_bucket, v.category, v.tte_bucket, v.rollout_stage]).toEqual(['high', 'politics', '1-7d', 'canary'])
  })

  it('a body copied from the Python service docs, unchanged (observed_ts ignored)', () => {
    const y = probabilities(6)
    const text = JSON.stringify({
      market_id: '0xabc',
      as_of_ts: '2026-02-20T00:00:00Z',
      freq: '5m',
      horizon_steps: 12,
      quantiles: [0.1, 0.5, 0.9],
      y,
      y_ts: fiveMinuteStamps(6),
      observed_ts: '2026-02-20T00:00:03Z',
      max_gap_minutes: 10,
      x_past: { volume: [1, 2, 3, 4, 5, 6] },
      x_future: { volume: [6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6] },
      transform: { space: 'logit', eps: 1e-6 },
      model: { provider: 'tollama', model_name: 'chronos', params: {} },
      liquidity_bucket: 'high',
    })
    const v = accept(JSON.parse(text))
    expect(v.market_id).toBe('0xabc')
    expect(v.as_of_ts).toBe('2026-02-20T00:00:00Z')
    expect(v.model).toEqual({ provider: 'tollama', model_name: 'chronos', model_version: null, params: {} })
    expect(v.y).toEqual(new Float64Array(y))
    expect(v.y_ts?.[5]).toBe(AS_OF_MS)
    expect(v.max_gap_minutes).toBe(10)
    expect(Array.from(v.x_past['volume'] ?? [])).toEqual([1, 2, 3, 4, 5, 6])
    expect(v.x_future['volume']?.length).toBe(12)
    expect(v.liquidity_bucket).toBe('high')
    expect('observed_ts' in v).toBe(false)
  })

  it('a Float64Array y from an embedding caller, copied so later writes do not leak in', () => {
    const body = minimalBody()
    const y = new Float64Array([0.2, 0.4, 0.6])
    body['y'] = y
    const v = accept(body)
    y[0] = 0.9
    expect(Array.from(v.y)).toEqual([0.2, 0.4, 0.6])
  })

  it('model.params as a detached copy', () => {
    const body = minimalBody()
    const params = { temperature: 0.5, nested: { k: [1, 2] } }
    body['model'] = { params }
    const v = accept(body)
    params.nested.k.push(3)
    expect(v.model.params).toEqual({ temperature: 0.5, nested: { k: [1, 2] } })
  })

  it('model.params nested exactly 32 levels deep (the limit)', () => {
    const body = minimalBody()
    let deep: unknown = 1
    for (let i = 0; i < 31; i++) deep = [deep]
    body['model'] = { params: { deep } }
    expect(accept(body).model.params).toEqual({ deep })
  })

  it('a covariate name that is not an identifier', () => {
    const body = minimalBody(2)
    body['x_past'] = { 'bid ask': [1, 2], constructor: [3, 4] }
    const v = accept(body)
    expect(Object.keys(v.x_past)).toEqual(['bid ask', 'constructor'])
    expect(Array.from(v.x_past['constructor'] ?? [])).toEqual([3, 4])
  })
})

describe('validateForecastRequest with hostile keys', () => {
  afterEach(() => {
    delete (Object.prototype as Record<string, unknown>)['freq']
    delete (Object.prototype as Record<string, unknown>)['polluted']
  })

  it('ignores a __proto__ member and pollutes nothing', () => {
    const body = JSON.parse(
      '{"market_id":"m","as_of_ts":"2026-02-20T00:00:00Z","y":[0.1,0.2],"__proto__":{"freq":"1d","polluted":true},' +
        '"x_past":{"__proto__":[1,2]},"model":{"params":{"__proto__":{"polluted":true}}}}',
    )
    const v = accept(body)
    expect(v.freq).toBe('5m')
    expect(Object.keys(v.x_past)).toEqual(['__proto__'])
    expect(Array.from(v.x_past['__proto__'] ?? [])).toEqual([1, 2])
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    expect((v.model.params as Record<string, unknown>)['polluted']).toBeUndefined()
  })

  it('reads own members only, so a polluted Object.prototype cannot set a field', () => {
    ;(Object.prototype as Record<string, unknown>)['freq'] = '1d'
    const v = accept(minimalBody())
    expect(v.freq).toBe('5m')
  })

  it('a constructor member is an ignored unknown field', () => {
    const body = minimalBody()
    body['constructor'] = 'x'
    expect(accept(body).market_id).toBe('m-1')
  })
})
