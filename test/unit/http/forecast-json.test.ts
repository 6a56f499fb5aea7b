import { NOT_LOADED } from '../../../src/conformal/choice.js'
import fastJson from 'fast-json-stringify'
import { describe, expect, it } from 'vitest'
import { ForecastJson, type Serializer } from '../../../src/http/forecast-json.js'
import { forecastHeadSchema, forecastMetaSchema, forecastResponseSchema } from '../../../src/http/schemas.js'
import type { ForecastRequest } from '../../../src/request/types.js'
import type { ForecastResponse } from '../../../src/response.js'
import { bandToPaths, buildAnswer, reanswer } from '../../../src/supervisor/answer.js'

/** What fastify writes for a 200 of `POST /tsfm/forecast` without ForecastJson. */
const fastify = fastJson(forecastResponseSchema)

function counting(s: Serializer): { fn: Serializer; calls: () => number } {
  let n = 0
  return {
    fn: (v) => {
      n++
      return s(v)
    },
    calls: () => n,
  }
}

function setup(): { json: ForecastJson; headCalls: () => number } {
  const head = counting(fastJson(forecastHeadSchema) as Serializer)
  return { json: new ForecastJson(head.fn, fastJson(forecastMetaSchema) as Serializer), headCalls: head.calls }
}

const req = {
  market_id: 'm-"1"',
  as_of_ts: '2026-02-20T00:00:00Z',
  freq: '5m',
  horizon_steps: 3,
  quantiles: [0.1, 0.5, 0.9],
  transform: { space: 'logit', eps: 1e-6 },
  model: { provider: 'tollama', model_name: 'chronos2', model_version: null, params: {} },
} as unknown as ForecastRequest

function computed(): ForecastResponse {
  const band = Float64Array.from([0.1, 0.12, 0.13, 0.5, 0.51, 1 / 3, 0.9, 0.95, 1])
  return buildAnswer(
    req,
    bandToPaths(band, req.quantiles, 3),
    { runtime: 'tollama', reason: null, warnings: ['quantile_crossing_fixed'], route: { selected: 'tsfm', reason: 'default', segment: null }, cacheHit: false, cacheStale: false },
    { breaker: 'closed', mode: 'normal', conformal: NOT_LOADED },
    { queue: 0.1, upstream: 14.9, total: 15.6 },
    288,
  )
}

function hit(base: ForecastResponse, total: number, stale = false): ForecastResponse {
  return reanswer(base, { cacheHit: true, cacheStale: stale }, { breaker: 'half-open', mode: 'degraded', conformal: NOT_LOADED }, { queue: 0, upstream: 0, total })
}

describe('ForecastJson', () => {
  it("writes a computed answer exactly as fastify's serializer of the whole schema does", () => {
    const { json } = setup()
    const a = computed()
    expect(json.stringify(a)).toBe(fastify(a))
  })

  it('writes every cache hit exactly as fastify does, with its own meta', () => {
    const { json } = setup()
    const base = computed()
    for (const a of [hit(base, 0.031), hit(base, 0.047), hit(base, 0.052, true), reanswer(base, { cacheHit: true, cacheStale: true, reason: 'stale_if_error' }, { breaker: 'open', mode: 'normal', conformal: NOT_LOADED }, { queue: 0, upstream: 0, total: 1 })]) {
      expect(json.stringify(a)).toBe(fastify(a))
    }
  })

  it('serialises the body of a cached answer once for all its hits', () => {
    const { json, headCalls } = setup()
    const base = computed()
    json.stringify(hit(base, 1))
    json.stringify(hit(base, 2))
    json.stringify(hit(base, 3))
    expect(headCalls()).toBe(1)
  })

  it('keeps nothing for answers that are not cache hits', () => {
    const { json, headCalls } = setup()
    const a = computed()
    json.stringify(a)
    json.stringify(a)
    expect(headCalls()).toBe(2)
  })

  it('does not reuse a body whose fields differ, even with the same yhat_q object', () => {
    const { json, headCalls } = setup()
    const base = computed()
    json.stringify(hit(base, 1))
    const other = { ...hit(base, 2), market_id: 'm-2' }
    expect(json.stringify(other)).toBe(fastify(other))
    expect(headCalls()).toBe(2)
  })

  it("writes a conformal last step exactly as fastify's serializer does, on computed answers and cache hits", () => {
    const { json } = setup()
    const adjustment = { target_coverage: 0.8, quantile_level: 0.9, center_shift: 0.05, width_scale: 1.3, sample_size: 200 }
    const conformal = { loaded: true, key: 'liquidity_bucket=high', adjustment }
    const band = Float64Array.from([0.1, 0.12, 0.13, 0.5, 0.51, 1 / 3, 0.9, 0.95, 1])
    const base = buildAnswer(
      req,
      bandToPaths(band, req.quantiles, 3),
      { runtime: 'tollama', reason: null, warnings: [], route: { selected: 'tsfm', reason: 'default', segment: null }, cacheHit: false, cacheStale: false },
      { breaker: 'closed', mode: 'normal', conformal },
      { queue: 0.1, upstream: 14.9, total: 15.6 },
      288,
    )
    expect(base.conformal_last_step).not.toBeNull()
    expect(json.stringify(base)).toBe(fastify(base))
    const h = reanswer(base, { cacheHit: true, cacheStale: false }, { breaker: 'closed', mode: 'normal', conformal }, { queue: 0, upstream: 0, total: 1 })
    expect(json.stringify(h)).toBe(fastify(h))
    expect(JSON.parse(json.stringify(h))).toEqual(JSON.parse(JSON.stringify(h)))
  })
})
