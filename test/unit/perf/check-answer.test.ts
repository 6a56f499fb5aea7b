import { describe, expect, it } from 'vitest'
import { checkForecast, checkResponse, type Expectation } from '../../../perf/load/check-answer.js'

const want: Expectation = { marketId: 'm-1', horizon: 2, quantiles: [0.1, 0.5, 0.9] }

function answer(over: { meta?: Record<string, unknown>; yhat_q?: unknown; market_id?: string } = {}): Record<string, unknown> {
  return {
    market_id: over.market_id ?? 'm-1',
    horizon_steps: 2,
    yhat_q: over.yhat_q ?? { '0.1': [0.4, 0.41], '0.5': [0.5, 0.5], '0.9': [0.6, 0.62] },
    meta: { runtime: 'tollama', fallback_used: false, fallback_reason: null, cache_hit: false, timings_ms: { total: 3.5 }, ...over.meta },
  }
}

describe('checkForecast', () => {
  it('counts a well-formed upstream answer as a success with the daemon time', () => {
    expect(checkForecast(answer(), want)).toEqual({ kind: 'success', cacheHit: false, daemonMs: 3.5 })
  })

  it('counts a 200 that fell back as a fallback with its reason, never as a success', () => {
    const a = answer({ meta: { runtime: 'baseline', fallback_used: true, fallback_reason: 'upstream_timeout' } })
    expect(checkForecast(a, want)).toEqual({ kind: 'fallback', reason: 'upstream_timeout', cacheHit: false, daemonMs: 3.5 })
  })

  it('counts a stale-if-error answer from the upstream cache as a fallback', () => {
    const a = answer({ meta: { fallback_used: true, fallback_reason: 'stale_if_error', cache_hit: true } })
    expect(checkForecast(a, want)).toEqual({ kind: 'fallback', reason: 'stale_if_error', cacheHit: true, daemonMs: 3.5 })
  })

  it('rejects crossing quantiles', () => {
    const a = answer({ yhat_q: { '0.1': [0.4, 0.55], '0.5': [0.5, 0.5], '0.9': [0.6, 0.62] } })
    expect(checkForecast(a, want)).toEqual({ kind: 'invalid', problem: 'yhat_q quantiles cross' })
  })

  it('rejects a value outside [0, 1]', () => {
    const a = answer({ yhat_q: { '0.1': [0.4, 0.41], '0.5': [0.5, 0.5], '0.9': [0.6, 1.01] } })
    expect(checkForecast(a, want)).toEqual({ kind: 'invalid', problem: 'yhat_q value outside [0, 1]' })
  })

  it('rejects a path of the wrong length and a missing quantile', () => {
    expect(checkForecast(answer({ yhat_q: { '0.1': [0.4], '0.5': [0.5, 0.5], '0.9': [0.6, 0.62] } }), want)).toEqual({
      kind: 'invalid',
      problem: 'yhat_q["0.1"] has 1 values, not 2',
    })
    expect(checkForecast(answer({ yhat_q: { '0.1': [0.4, 0.41], '0.9': [0.6, 0.62] } }), want)).toEqual({ kind: 'invalid', problem: 'yhat_q["0.5"] missing' })
  })

  it('rejects an unknown runtime, a baseline answer without fallback_used and another market', () => {
    expect(checkForecast(answer({ meta: { runtime: 'python' } }), want)).toEqual({ kind: 'invalid', problem: 'meta.runtime is neither tollama nor baseline' })
    expect(checkForecast(answer({ meta: { runtime: 'baseline' } }), want)).toEqual({ kind: 'invalid', problem: 'baseline answer without fallback_used' })
    expect(checkForecast(answer({ market_id: 'm-2' }), want)).toEqual({ kind: 'invalid', problem: 'market_id differs from the request' })
  })
})

describe('checkResponse', () => {
  it('reports a non-200 status as an error by status', () => {
    expect(checkResponse(503, '{"error":{}}', want)).toEqual({ kind: 'error', what: 'http_503' })
  })

  it('reports a 200 whose body is not JSON as invalid', () => {
    expect(checkResponse(200, '{"market_id":', want)).toEqual({ kind: 'invalid', problem: 'body is not JSON' })
  })
})
