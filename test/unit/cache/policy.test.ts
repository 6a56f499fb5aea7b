import { describe, expect, it } from 'vitest'
import { isCacheable } from '../../../src/cache/policy.js'

function answer(runtime: 'tollama' | 'baseline', fallback_reason: string | null) {
  return { meta: { runtime, fallback_reason, cache_hit: false, cache_stale: false } }
}

describe('isCacheable', () => {
  it('caches an answer computed from the upstream', () => {
    expect(isCacheable(answer('tollama', null))).toBe(true)
  })

  it.each(['too_few_points', 'baseline_only_liquidity_bucket', 'max_gap_exceeded', 'route_policy_baseline'])(
    'caches the deterministic gate answer %s',
    (reason) => {
      expect(isCacheable(answer('baseline', reason))).toBe(true)
    },
  )

  it.each([
    'upstream_timeout',
    'upstream_unavailable',
    'upstream_http_503',
    'upstream_invalid_payload',
    'upstream_model_missing',
    'deadline_exceeded',
    'queue_timeout',
    'mailbox_full',
    'circuit_breaker_open',
    'degradation_baseline_only',
    'stale_if_error',
    'cycle_budget_exhausted',
    'baseline_error',
  ])('never caches a baseline answer that fell back with %s', (reason) => {
    expect(isCacheable(answer('baseline', reason))).toBe(false)
  })

  it('never caches a stale-if-error answer even though it came from the upstream once', () => {
    expect(isCacheable(answer('tollama', 'stale_if_error'))).toBe(false)
  })

  it('never caches a baseline answer without a reason', () => {
    expect(isCacheable(answer('baseline', null))).toBe(false)
  })

  it('never stores again an answer that was read from the cache', () => {
    expect(isCacheable({ meta: { runtime: 'tollama', fallback_reason: null, cache_hit: true, cache_stale: false } })).toBe(false)
    expect(isCacheable({ meta: { runtime: 'tollama', fallback_reason: null, cache_hit: true, cache_stale: true } })).toBe(false)
  })

  it('accepts the minimal answer shape without cache flags', () => {
    expect(isCacheable({ meta: { runtime: 'tollama', fallback_reason: null } })).toBe(true)
  })
})
