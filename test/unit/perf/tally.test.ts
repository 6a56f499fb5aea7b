import { describe, expect, it } from 'vitest'
import { Tally } from '../../../perf/load/tally.js'

describe('Tally', () => {
  it('counts successes, fallbacks by reason, errors and invalid answers separately', () => {
    const t = new Tally(2)
    t.add({ kind: 'success', cacheHit: false, daemonMs: 15 }, 17)
    t.add({ kind: 'success', cacheHit: true, daemonMs: 0.01 }, 0.3)
    t.add({ kind: 'fallback', reason: 'upstream_timeout', cacheHit: false, daemonMs: 1200 }, 1201)
    t.add({ kind: 'error', what: 'http_503' }, 0.5)
    t.add({ kind: 'invalid', problem: 'yhat_q quantiles cross' }, 2)
    const r = t.report(1000)
    expect([r.requests, r.success, r.fallbacks, r.errors, r.invalid, r.cache_hits]).toEqual([5, 2, 1, 1, 1, 1])
    expect(r.fallback_rate).toBe(0.2)
    expect(r.fallbacks_by_reason).toEqual({ upstream_timeout: 1 })
    expect(r.errors_by_kind).toEqual({ http_503: 1 })
    expect(r.invalid_by_problem).toEqual({ 'yhat_q quantiles cross': 1 })
    expect(r.throughput_rps).toBe(5)
  })

  it('keeps latencies by outcome: upstream, cache hit and fallback apart', () => {
    const t = new Tally()
    t.add({ kind: 'success', cacheHit: false, daemonMs: 15 }, 17)
    t.add({ kind: 'success', cacheHit: true, daemonMs: 0.01 }, 0.3)
    t.add({ kind: 'fallback', reason: 'queue_timeout', cacheHit: false, daemonMs: 100 }, 101)
    const r = t.report(100)
    expect([r.latency_upstream_ms.max, r.latency_cache_hit_ms.max, r.latency_fallback_ms.max]).toEqual([17, 0.3, 101])
    expect(r.daemon_fallback_ms.p50).toBe(100)
    expect(r.cache_hit_rate).toBeCloseTo(1 / 3, 12)
  })

  it('keeps fallback latencies by reason (not cache hits), the slow ones counted, and the daemon view of upstream answers', () => {
    const t = new Tally(1)
    t.add({ kind: 'success', cacheHit: false, daemonMs: 40 }, 42)
    t.add({ kind: 'fallback', reason: 'queue_timeout', cacheHit: false, daemonMs: 0.3 }, 1)
    t.add({ kind: 'fallback', reason: 'queue_timeout', cacheHit: false, daemonMs: 900 }, 905)
    t.add({ kind: 'fallback', reason: 'upstream_timeout', cacheHit: false, daemonMs: 1200 }, 1201)
    t.add({ kind: 'fallback', reason: 'queue_timeout', cacheHit: true, daemonMs: 0.01 }, 500)
    const r = t.report(1000)
    expect(r.latency_by_reason_ms.queue_timeout?.count).toBe(2)
    expect(r.latency_by_reason_ms.queue_timeout?.max).toBe(905)
    expect(r.daemon_by_reason_ms.upstream_timeout?.p50).toBe(1200)
    expect(r.slow_fallbacks_by_reason).toEqual({ queue_timeout: 1, upstream_timeout: 1 })
    expect(r.daemon_upstream_ms.max).toBe(40)
    expect(r.daemon_upstream_ms.count).toBe(1)
  })
})
