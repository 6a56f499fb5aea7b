import { describe, expect, it } from 'vitest'
import { Answers, harness, marketBody } from '../../helpers/supervisor-harness.js'
import { DEADLINE_GUARD_MS } from '../../../src/supervisor/supervisor.js'

describe('Supervisor pipeline', () => {
  it('answers an eligible request from the upstream, post-processed, with meta filled', () => {
    const h = harness()
    const a = new Answers()
    h.sup.submit(h.request(marketBody('m-1')), a)
    expect(h.upstream.jobs).toHaveLength(1)
    h.clock.advance(15)
    h.upstream.succeedAll()
    expect(a.count).toBe(1)
    const r = a.answers[0]!
    expect(r.meta.runtime).toBe('tollama')
    expect(r.meta.fallback_used).toBe(false)
    expect(r.meta.fallback_reason).toBeNull()
    expect(r.meta.route_selected).toBe('tsfm')
    expect(r.meta.route_reason).toBe('default')
    expect(r.meta.input_len).toBe(64)
    expect(r.meta.timings_ms.total).toBe(15)
    expect(Object.keys(r.yhat_q)).toEqual(['0.1', '0.5', '0.9'])
    for (const path of Object.values(r.yhat_q)) expect(path).toHaveLength(12)
  })

  it('sends only the last input_len_steps points upstream', () => {
    const h = harness()
    h.sup.submit(h.request(marketBody('m-1', 400)), new Answers())
    expect(h.upstream.jobs[0]!.y).toHaveLength(288)
  })

  it('answers too_few_points from the baseline without touching the upstream, and caches it', () => {
    const h = harness()
    const a = new Answers()
    h.sup.submit(h.request(marketBody('m-1', 10)), a)
    h.sup.submit(h.request(marketBody('m-1', 10)), a)
    expect(h.upstream.jobs).toHaveLength(0)
    expect(a.reasons()).toEqual(['too_few_points', 'too_few_points'])
    expect(a.answers[0]!.meta.runtime).toBe('baseline')
    expect(a.answers[0]!.meta.route_selected).toBe('baseline')
    expect(a.answers[1]!.meta.cache_hit).toBe(true)
  })

  it('routes the low liquidity bucket to the baseline, case-insensitively', () => {
    const h = harness()
    const a = new Answers()
    h.sup.submit(h.request(marketBody('m-1', 64, { liquidity_bucket: 'LOW' })), a)
    expect(a.reasons()).toEqual(['baseline_only_liquidity_bucket'])
  })

  it('routes by configured baseline segments with the Python service keys', () => {
    const h = harness({ tsfm: { routing: { baseline_segments: ['category=Sports'] } } })
    const a = new Answers()
    h.sup.submit(h.request(marketBody('m-1', 64, { category: 'sports' })), a)
    expect(a.reasons()).toEqual(['route_policy_baseline'])
    expect(a.answers[0]!.meta.route_reason).toBe('policy_segment_baseline')
    expect(a.answers[0]!.meta.route_segment_key).toBe('category=Sports')
  })

  it('answers a fallback through the math batch when the turn is too big to compute it at once', () => {
    const h = harness()
    h.math.queueBaselines = true
    const a = new Answers()
    h.sup.submit(h.request(marketBody('m-1', 10)), a)
    expect(a.reasons()).toEqual(['too_few_points'])
    expect(a.answers[0]!.meta.runtime).toBe('baseline')
  })

  it('answers max_gap_exceeded from a declared gap above the limit', () => {
    const h = harness()
    const a = new Answers()
    h.sup.submit(h.request(marketBody('m-1', 64, { max_gap_minutes: 61 })), a)
    expect(a.reasons()).toEqual(['max_gap_exceeded'])
  })

  it('makes at most one upstream call at a time for 64 concurrent requests of one market', () => {
    const h = harness({ tsfm: { perf: { queue_timeout_ms: 10_000 }, adapter: { deadline_budget_ms: 60_000 } } })
    const a = new Answers()
    for (let i = 0; i < 64; i++) h.sup.submit(h.request(marketBody('m-1', 64, { horizon_steps: i + 1 })), a)
    for (let round = 0; round < 64; round++) {
      expect(h.upstream.pending).toHaveLength(1)
      h.clock.advance(5)
      h.upstream.succeedAll()
    }
    expect(h.upstream.maxPerMarket).toBe(1)
    expect(h.upstream.jobs).toHaveLength(64)
    expect(a.answers.every((r) => r.meta.runtime === 'tollama')).toBe(true)
  })

  it('makes exactly one upstream call for 16 identical concurrent cold requests', () => {
    const h = harness()
    const a = new Answers()
    for (let i = 0; i < 16; i++) h.sup.submit(h.request(marketBody('m-1')), a)
    expect(h.upstream.jobs).toHaveLength(1)
    h.upstream.succeedAll()
    expect(a.answers).toHaveLength(16)
    expect(new Set(a.answers.map((r) => r.yhat_q))).toHaveProperty('size', 1)
    expect(h.math.postprocesses).toBe(1)
  })

  it('serves a fresh hit, then stale-while-revalidate with exactly one refresh', () => {
    const h = harness()
    const a = new Answers()
    const body = marketBody('m-1')
    h.sup.submit(h.request(body), a)
    h.upstream.succeedAll()
    h.clock.advance(30_000)
    h.sup.submit(h.request(body), a)
    expect(a.answers[1]!.meta.cache_hit).toBe(true)
    expect(a.answers[1]!.meta.cache_stale).toBe(false)
    h.clock.advance(35_000) // past ttl (60 s), inside stale_while_revalidate (20 s)
    for (let i = 0; i < 5; i++) h.sup.submit(h.request(body), a)
    expect(a.answers.slice(2).every((r) => r.meta.cache_stale && r.meta.cache_hit)).toBe(true)
    expect(h.upstream.jobs).toHaveLength(2)
    h.upstream.succeedAll()
    h.sup.submit(h.request(body), a)
    expect(a.answers.at(-1)!.meta.cache_stale).toBe(false)
    expect(h.upstream.jobs).toHaveLength(2)
  })

  it('never caches an answer that fell back because the upstream failed', () => {
    const h = harness()
    const a = new Answers()
    const body = marketBody('m-1')
    h.sup.submit(h.request(body), a)
    h.upstream.failAll('upstream_http_503')
    expect(a.reasons()).toEqual(['upstream_http_503'])
    h.sup.submit(h.request(body), a)
    expect(h.upstream.jobs).toHaveLength(2)
    expect(a.count).toBe(1)
  })

  it('serves stale-if-error when the upstream fails after a cached answer aged out', () => {
    const h = harness()
    const a = new Answers()
    const body = marketBody('m-1')
    h.sup.submit(h.request(body), a)
    h.upstream.succeedAll()
    h.clock.advance(100_000) // past ttl + swr (80 s), inside stale_if_error (120 s)
    h.sup.submit(h.request(body), a)
    h.upstream.failAll('upstream_timeout')
    const r = a.answers[1]!
    expect(r.meta.fallback_reason).toBe('stale_if_error')
    expect(r.meta.runtime).toBe('tollama')
    expect(r.meta.cache_stale).toBe(true)
  })

  it('answers deadline_exceeded just before the deadline when the upstream is slow, and drops the late result', () => {
    const h = harness()
    const a = new Answers()
    h.sup.submit(h.request(marketBody('m-1')), a)
    h.clock.advance(1600 - DEADLINE_GUARD_MS - 1)
    expect(a.count).toBe(0)
    h.clock.advance(1)
    expect(a.reasons()).toEqual(['deadline_exceeded'])
    // the guard leaves the answer its way out of a busy event loop inside the 1 600 ms
    expect(a.answers[0]!.meta.timings_ms.total).toBe(1600 - DEADLINE_GUARD_MS)
    h.upstream.succeedAll() // late: fills the cache, answers nobody twice
    expect(a.count).toBe(1)
    expect(h.sup.state().queue.inflight).toBe(0)
  })

  it('answers queue_timeout after queue_timeout_ms in a busy market with the fixed queue policy', () => {
    const h = harness({ tsfm: { perf: { queue_policy: 'fixed' } } })
    const a = new Answers()
    h.sup.submit(h.request(marketBody('m-1', 64, { horizon_steps: 1 })), a)
    h.sup.submit(h.request(marketBody('m-1', 64, { horizon_steps: 2 })), a)
    h.clock.advance(100)
    expect(a.reasons()).toEqual(['queue_timeout'])
    expect(h.upstream.jobs).toHaveLength(1)
  })

  it('lets a request wait for its busy market while a typical upstream call still fits its deadline (predicted policy)', () => {
    const h = harness()
    const a = new Answers()
    // a first call teaches the smoothed upstream latency: 200 ms
    h.sup.submit(h.request(marketBody('m-0')), a)
    h.clock.advance(200)
    h.upstream.succeed(h.upstream.pending[0]!, 200)
    h.sup.submit(h.request(marketBody('m-1', 64, { horizon_steps: 1 })), a)
    h.sup.submit(h.request(marketBody('m-1', 64, { horizon_steps: 2 })), a)
    // 1600 − 50 (post-processing) − 200 (a typical call) = 1 350 ms
    h.clock.advance(1349)
    expect(a.count).toBe(1)
    h.clock.advance(1)
    expect(a.reasons()).toEqual([null, 'queue_timeout'])
    expect(a.answers[1]!.meta.timings_ms.total).toBe(1350)
  })

  it('answers mailbox_full when a market mailbox is full, never dropping', () => {
    const h = harness({ tsfm: { perf: { mailbox_capacity: 2, queue_policy: 'fixed' } } })
    const a = new Answers()
    for (let i = 1; i <= 4; i++) h.sup.submit(h.request(marketBody('m-1', 64, { horizon_steps: i })), a)
    expect(a.reasons()).toEqual(['mailbox_full'])
    h.clock.advance(100)
    expect(a.count).toBe(3)
  })

  it('sends every ready market upstream at once: how many requests go at a time is the lanes\' business', () => {
    const h = harness({ tsfm: { perf: { worker_concurrency: 4 } } })
    const a = new Answers()
    for (let i = 0; i < 10; i++) h.sup.submit(h.request(marketBody(`m-${i}`)), a)
    expect(h.upstream.pending.map((j) => j.series_id)).toEqual(Array.from({ length: 10 }, (_, i) => `m-${i}`))
    h.upstream.succeedAll()
    expect(a.answers).toHaveLength(10)
  })

  it('reports upstream jobs outstanding and requests waiting for their market in the gauges when scraped', async () => {
    const h = harness({ tsfm: { adapter: { deadline_budget_ms: 60_000 } } })
    const a = new Answers()
    for (let i = 0; i < 3; i++) h.sup.submit(h.request(marketBody('m-1', 64, { horizon_steps: i + 1 })), a)
    h.sup.submit(h.request(marketBody('m-2')), a)
    const gauge = async (name: string): Promise<number> => (await h.metrics.registry.getSingleMetric(name)!.get()).values[0]!.value
    expect([await gauge('tsfm_inflight'), await gauge('tsfm_mailbox_depth')]).toEqual([2, 2])
    h.upstream.succeedAll()
    expect([await gauge('tsfm_inflight'), await gauge('tsfm_mailbox_depth')]).toEqual([1, 1])
    h.upstream.succeedAll()
    h.upstream.succeedAll()
    expect([await gauge('tsfm_inflight'), await gauge('tsfm_mailbox_depth')]).toEqual([0, 0])
    expect(a.answers).toHaveLength(4)
  })

  it('marks a high-priority request\'s job high, for its lane to serve first', () => {
    const h = harness()
    const a = new Answers()
    h.sup.submit(h.request(marketBody('normal')), a)
    h.sup.submit(h.request(marketBody('urgent')), a, { priority: 'high' })
    expect(h.upstream.pending.map((j) => [j.series_id, j.high])).toEqual([
      ['normal', false],
      ['urgent', true],
    ])
  })

  it('takes a job back from its lane when its last waiter leaves, and answers nobody', () => {
    const h = harness()
    const a = new Answers()
    const w = h.sup.submit(h.request(marketBody('m-1')), a)
    const ticket = h.upstream.pending[0]!.ticket
    h.sup.abort(w)
    expect(h.upstream.cancelled).toEqual([ticket])
    expect(h.upstream.pending).toHaveLength(0)
    expect(h.sup.state().queue).toMatchObject({ flights: 0, inflight: 0, open_requests: 0 })
    expect(a.errors.map((e) => e.code)).toEqual(['TSFM_ABORTED'])
  })

  it('keeps a job that was already sent when its last waiter leaves: its answer fills the cache', () => {
    const h = harness()
    h.upstream.cancelsTakeBack = false
    const a = new Answers()
    const w = h.sup.submit(h.request(marketBody('m-1')), a)
    h.sup.abort(w)
    h.upstream.succeedAll()
    h.sup.submit(h.request(marketBody('m-1')), a)
    expect(a.answers.map((r) => r.meta.cache_hit)).toEqual([true])
  })

  it('starts the flight again when a client joins it while its job is being taken back', () => {
    const h = harness()
    h.upstream.cancelsTakeBack = false
    const a = new Answers()
    const w = h.sup.submit(h.request(marketBody('m-1')), a)
    const first = h.upstream.pending[0]!
    h.sup.abort(w)
    h.sup.submit(h.request(marketBody('m-1')), a) // joins the flight being cancelled
    // the lane took the job back after all
    h.upstream.cancelsTakeBack = true
    h.upstream.cancel(first.ticket)
    expect(h.upstream.pending).toHaveLength(1)
    h.upstream.succeedAll()
    expect(a.answers.map((r) => r.meta.runtime)).toEqual(['tollama'])
  })

  it('opens the breaker after five consecutive failures and answers circuit_breaker_open without calling upstream', () => {
    const h = harness()
    const a = new Answers()
    for (let i = 0; i < 5; i++) {
      h.sup.submit(h.request(marketBody(`m-${i}`)), a)
      h.upstream.failAll()
    }
    expect(h.sup.breakerState).toBe('open')
    h.sup.submit(h.request(marketBody('m-x')), a)
    expect(h.upstream.jobs).toHaveLength(5)
    expect(a.reasons().at(-1)).toBe('circuit_breaker_open')
    expect(a.answers.at(-1)!.meta.circuit_breaker_state).toBe('open')
  })

  it('does not open the breaker for one failed multiplexed request, but does after five failed requests', () => {
    const h = harness()
    const a = new Answers()
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 4; i++) h.sup.submit(h.request(marketBody(`ok-${round}-${i}`)), a)
      h.upstream.succeedAll()
    }
    for (let i = 0; i < 4; i++) h.sup.submit(h.request(marketBody(`x-${i}`)), a)
    h.upstream.failAsOneRequest('upstream_http_503')
    expect(h.sup.breakerState).toBe('closed')
    for (let r = 0; r < 4; r++) {
      h.sup.submit(h.request(marketBody(`y-${r}`)), a)
      h.upstream.failAsOneRequest('upstream_http_503')
    }
    expect(h.sup.breakerState).toBe('open')
  })

  it('counts each failed multiplexed request once even when its members fail interleaved with another request', () => {
    const h = harness()
    const a = new Answers()
    // eight members, below the rate rule's ten outcomes: only the consecutive rule can open it
    for (let i = 0; i < 8; i++) h.sup.submit(h.request(marketBody(`m-${i}`)), a)
    const jobs = h.upstream.pending
    // members of request 1 (even) and request 2 (odd) fail in turn: two failed requests
    jobs.forEach((job, i) => h.upstream.fail(job, 'upstream_http_503', i % 2 === 0 ? 101 : 102))
    expect(h.sup.state().breaker.consecutive_failures).toBe(2)
    expect(h.sup.breakerState).toBe('closed')
  })

  it('answers an aborted request with TSFM_ABORTED and lets the shared flight go on', () => {
    const h = harness()
    const a = new Answers()
    const b = new Answers()
    const w = h.sup.submit(h.request(marketBody('m-1')), a)
    h.sup.submit(h.request(marketBody('m-1')), b)
    h.sup.abort(w)
    expect(a.errors.map((e) => e.code)).toEqual(['TSFM_ABORTED'])
    h.upstream.succeedAll()
    expect(b.answers).toHaveLength(1)
  })

  it('drains on close: refuses new requests and resolves when every accepted one is answered', async () => {
    const h = harness()
    const a = new Answers()
    h.sup.submit(h.request(marketBody('m-1')), a)
    let closed = false
    const p = h.sup.close().then(() => {
      closed = true
    })
    h.sup.submit(h.request(marketBody('m-2')), a)
    expect(a.errors.map((e) => e.code)).toEqual(['TSFM_RUNNER_CLOSED'])
    await Promise.resolve()
    expect(closed).toBe(false)
    h.upstream.succeedAll()
    await p
    expect(closed).toBe(true)
  })

  it('keeps cells and cache within bounds for 200 000 distinct markets', () => {
    const h = harness({ tsfm: { cache: { max_entries: 1000 } } })
    const a = new Answers()
    const base = marketBody('x')
    for (let i = 0; i < 200_000; i++) {
      h.sup.submit(h.request({ ...base, market_id: `m-${i}` }), a)
      if (i % 32 === 31) h.upstream.succeedAll()
    }
    h.upstream.succeedAll()
    const s = h.sup.state()
    expect(a.answers).toHaveLength(200_000)
    expect(s.queue.markets).toBe(0)
    expect(s.queue.flights).toBe(0)
    expect(s.cache.size).toBeLessThanOrEqual(1000)
  }, 60_000)
})
