import { describe, expect, it } from 'vitest'
import type { Metrics } from '../../../src/metrics/metrics.js'
import type { ForecastResponse } from '../../../src/response.js'
import { Answers, harness, marketBody } from '../../helpers/supervisor-harness.js'

async function counter(metrics: Metrics, name: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  const m = metrics.registry.getSingleMetric(name)
  if (m === undefined) throw new Error(`no metric ${name}`)
  return (await m.get()).values.map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }))
}

function byReason(answers: readonly ForecastResponse[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const r of answers) {
    const reason = r.meta.fallback_reason
    if (reason !== null) out[reason] = (out[reason] ?? 0) + 1
  }
  return out
}

/**
 * Regression (reliability issue, item 5): stale-if-error answers were never counted, fallbacks
 * nobody received were, one request could count twice (`deadline_exceeded` and the upstream's
 * later `upstream_timeout`), and `sum(tsfm_fallback_total)` disagreed with
 * `tsfm_requests_total{runtime="baseline"}` (cached baseline answers). Rule: one count per
 * delivered answer, under the reason the client saw.
 */
describe('fallback accounting', () => {
  it('counts every delivered fallback once under the reason its client saw, for every reason', async () => {
    const h = harness({
      tsfm: {
        cache: { ttl_s: 1, stale_while_revalidate_s: 1, stale_if_error_s: 600 },
        routing: { baseline_segments: ['category=sports'] },
        perf: { queue_policy: 'fixed', queue_timeout_ms: 100, mailbox_capacity: 1 },
      },
    })
    const a = new Answers()
    const send = (market: string, extra: Record<string, unknown> = {}, n = 64): void => void h.sup.submit(h.request(marketBody(market, n, extra)), a)

    // gates, the second too_few_points a cache hit of the first
    send('few', {}, 10)
    send('few', {}, 10)
    send('low', { liquidity_bucket: 'low' })
    send('gap', { max_gap_minutes: 120 })
    send('sports', { category: 'sports' })
    // upstream failures of every kind, one by one
    for (const reason of ['upstream_http_503', 'upstream_timeout', 'upstream_unavailable', 'upstream_invalid_payload', 'upstream_model_missing'] as const) {
      send(`fail-${reason}`)
      h.upstream.failAll(reason)
      for (let k = 0; k < 3; k++) {
        send(`ok-${reason}-${k}`) // keeps the breaker's failures short of opening it
        h.upstream.succeedAll()
      }
    }
    // deadline_exceeded, and the upstream's later timeout for the same request is not counted again
    send('slow')
    h.clock.advance(1600)
    h.upstream.failAll('upstream_timeout')
    send('ok-after-slow')
    h.upstream.succeedAll()
    // queue_timeout and mailbox_full behind a busy market
    send('busy')
    send('busy', { horizon_steps: 2 })
    send('busy', { horizon_steps: 3 })
    h.clock.advance(100)
    h.upstream.succeedAll()
    // stale-if-error: a cached upstream answer past ttl + swr, then the upstream fails
    send('cached')
    h.upstream.succeedAll()
    h.clock.advance(2500)
    send('cached')
    h.upstream.failAll('upstream_http_502')
    // a cycle's unsent market
    h.sup.baselineNow(h.request(marketBody('late-in-cycle')), 'cycle_budget_exhausted')
    // the breaker opens (five consecutive failures), then refuses
    for (let i = 0; i < 5; i++) {
      send(`down-${i}`)
      h.upstream.failAll('upstream_http_500')
    }
    send('refused')
    // a minute of refusals: the fast trip to baseline-only
    for (let s = 0; s < 70 && h.sup.modeName !== 'baseline-only'; s++) {
      h.clock.advance(1000)
      send(`refused-${s}`)
    }
    expect(h.sup.modeName).toBe('baseline-only')
    send('forced')

    const seen = byReason(a.answers)
    expect(Object.keys(seen).sort()).toEqual(
      [
        'baseline_only_liquidity_bucket',
        'circuit_breaker_open',
        'degradation_baseline_only',
        'deadline_exceeded',
        'mailbox_full',
        'max_gap_exceeded',
        'queue_timeout',
        'route_policy_baseline',
        'stale_if_error',
        'too_few_points',
        'upstream_http_500',
        'upstream_http_503',
        'upstream_invalid_payload',
        'upstream_model_missing',
        'upstream_timeout',
        'upstream_unavailable',
      ].sort(),
    )
    expect(seen.too_few_points).toBe(2)
    expect(seen.deadline_exceeded).toBe(1)
    expect(seen.upstream_timeout).toBe(1)
    seen.cycle_budget_exhausted = 1 // delivered by the cycle, not through a sink

    const fallbacks = await counter(h.metrics, 'tsfm_fallback_total')
    const counted: Record<string, number> = {}
    for (const v of fallbacks) if (v.value > 0) counted[String(v.labels.reason)] = v.value
    expect(counted).toEqual(seen)
    const fallbackSum = fallbacks.reduce((s, v) => s + v.value, 0)
    const requests = await counter(h.metrics, 'tsfm_requests_total')
    const baselineAnswers = requests.filter((v) => v.labels.runtime === 'baseline').reduce((s, v) => s + v.value, 0)
    expect(fallbackSum).toBe(baselineAnswers)
    expect(fallbackSum).toBe(a.answers.filter((r) => r.meta.fallback_used).length + 1)
    expect(h.sup.state().fallbacks_last_5m).toEqual(Object.fromEntries(Object.entries(seen).sort()))
  })

  it('does not count a fallback that nobody receives', async () => {
    const h = harness({ tsfm: { cache: { ttl_s: 1, stale_while_revalidate_s: 5, stale_if_error_s: 0 } } })
    const a = new Answers()
    h.sup.submit(h.request(marketBody('m-1')), a)
    h.upstream.succeedAll()
    h.clock.advance(1500)
    h.sup.submit(h.request(marketBody('m-1')), a) // stale at once; the refresh nobody waits for fails
    h.upstream.failAll('upstream_http_503')
    const fallbacks = await counter(h.metrics, 'tsfm_fallback_total')
    expect(fallbacks.reduce((s, v) => s + v.value, 0)).toBe(0)
    expect(h.sup.state().answered).toBe(2)
  })

  it('counts a withdrawn request once, as 499, and never as an answer', async () => {
    const h = harness()
    const a = new Answers()
    const w = h.sup.submit(h.request(marketBody('m-1')), a)
    h.sup.abort(w)
    h.upstream.succeedAll()
    const requests = await counter(h.metrics, 'tsfm_requests_total')
    expect(requests.filter((v) => v.value > 0).map((v) => [v.labels.status, v.labels.runtime, v.value])).toEqual([['499', 'none', 1]])
    expect(h.sup.state()).toMatchObject({ answered: 0, withdrawn: 1 })
  })
})
