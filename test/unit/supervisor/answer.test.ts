import { NOT_LOADED } from '../../../src/conformal/choice.js'
import { describe, expect, it } from 'vitest'
import type { ForecastRequest } from '../../../src/request/types.js'
import { bandToPaths, buildAnswer, reanswer } from '../../../src/supervisor/answer.js'

const req = {
  market_id: 'm-1',
  as_of_ts: '2026-02-20T00:00:00Z',
  freq: '5m',
  horizon_steps: 2,
  quantiles: [0.1, 0.5, 0.9],
  transform: { space: 'logit', eps: 1e-6 },
  model: { provider: 'tollama', model_name: 'chronos2', model_version: null, params: {} },
} as unknown as ForecastRequest

const base = buildAnswer(
  req,
  bandToPaths(Float64Array.from([0.1, 0.2, 0.5, 0.5, 0.8, 0.9]), req.quantiles, 2),
  { runtime: 'baseline', reason: 'too_few_points', warnings: ['fallback_reason=too_few_points'], route: { selected: 'tsfm', reason: 'default', segment: 'politics' }, cacheHit: false, cacheStale: false },
  { breaker: 'closed', mode: 'normal', conformal: NOT_LOADED },
  { queue: 0.1, upstream: 0, total: 0.5 },
  20,
)

describe('reanswer', () => {
  it('keeps the body and the key order, and changes only the flags, states and timings', () => {
    const a = reanswer(base, { cacheHit: true, cacheStale: false }, { breaker: 'open', mode: 'degraded', conformal: NOT_LOADED }, { queue: 0, upstream: 0, total: 0.03 })
    expect(JSON.stringify(a)).toBe(
      JSON.stringify({
        ...base,
        meta: { ...base.meta, cache_hit: true, circuit_breaker_state: 'open', degradation_state: 'degraded', timings_ms: { queue: 0, upstream: 0, total: 0.03 } },
      }),
    )
    expect(a.yhat_q).toBe(base.yhat_q)
  })

  it('adds a new fallback reason to the warnings (stale_if_error)', () => {
    const a = reanswer(base, { cacheHit: true, cacheStale: true, reason: 'stale_if_error' }, { breaker: 'open', mode: 'normal', conformal: NOT_LOADED }, { queue: 0, upstream: 0, total: 1 })
    expect(a.meta.fallback_reason).toBe('stale_if_error')
    expect(a.meta.fallback_used).toBe(true)
    expect(a.meta.warnings).toEqual(['fallback_reason=too_few_points', 'fallback_reason=stale_if_error'])
    expect(a.meta.route_selected).toBe('baseline')
    expect(a.meta.route_reason).toBe('too_few_points')
  })

  it('gives built and re-made answers the same keys in the same order', () => {
    const a = reanswer(base, { cacheHit: false, cacheStale: false }, { breaker: 'closed', mode: 'normal', conformal: NOT_LOADED }, { queue: 0, upstream: 0, total: 0 })
    expect(Object.keys(a)).toEqual(Object.keys(base))
    expect(Object.keys(a.meta)).toEqual(Object.keys(base.meta))
  })
})
