import { describe, expect, it } from 'vitest'
import type { L2Port } from '../../../src/cache/l2/port.js'
import type { ForecastResponse } from '../../../src/response.js'
import { Answers, harness, marketBody, type Harness } from '../../helpers/supervisor-harness.js'

/** An L2 that records what it is asked and answers only when the test says so. */
class FakeL2 implements L2Port {
  up = true
  readonly lookups: { ticket: number; key: string }[] = []
  readonly waits: { ticket: number; key: string }[] = []
  readonly stored: string[] = []
  readonly abandoned: string[] = []
  timeouts = 0

  lookup(ticket: number, key: string): void {
    this.lookups.push({ ticket, key })
  }
  wait(ticket: number, key: string): void {
    this.waits.push({ ticket, key })
  }
  unwait(): void {}
  store(key: string): void {
    this.stored.push(key)
  }
  abandon(key: string): void {
    this.abandoned.push(key)
  }
  timedOut(): void {
    this.timeouts++
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}

/** The supervisor's L2 bound starts in the turn after a lookup, and a late one gets one more turn. */
const turn = (): Promise<void> => new Promise((ok) => setImmediate(ok))

function setup(): { h: Harness; l2: FakeL2; sink: Answers } {
  const l2 = new FakeL2()
  const h = harness({ tsfm: { cache: { l2: { url: 'redis://127.0.0.1:6379' } } } }, { l2 })
  return { h, l2, sink: new Answers() }
}

/** An answer as another daemon would have stored it: computed once, through its upstream. */
function computedElsewhere(market: string): ForecastResponse {
  const other = harness()
  const sink = new Answers()
  other.sup.submit(other.request(marketBody(market)), sink)
  other.upstream.succeedAll()
  return sink.answers[0] as ForecastResponse
}

describe('the supervisor with a shared L2 cache', () => {
  it('goes upstream once the command timeout has passed when Redis does not answer a lookup', async () => {
    const { h, l2, sink } = setup()
    h.sup.submit(h.request(marketBody('m-1')), sink)
    expect(l2.lookups).toHaveLength(1)
    await turn()
    expect(h.upstream.pending).toHaveLength(0)
    h.clock.advance(h.config.cache.l2.command_timeout_ms)
    await turn()
    expect(h.upstream.pending).toHaveLength(1)
    expect(l2.timeouts).toBe(1)
    h.upstream.succeedAll()
    expect(sink.answers[0]?.meta.runtime).toBe('tollama')
    expect(l2.stored).toHaveLength(1)
  })

  it('reports in its state whether L2 is asked, with its settings, and null without one', () => {
    const { h, l2 } = setup()
    expect(h.sup.state().cache.l2).toEqual({ up: true, key_prefix: h.config.cache.l2.key_prefix, command_timeout_ms: h.config.cache.l2.command_timeout_ms, lease_ms: h.config.cache.l2.lease_ms })
    l2.up = false
    expect(h.sup.state().cache.l2?.up).toBe(false)
    expect(harness().sup.state().cache.l2).toBeNull()
  })

  it('does not ask L2 at all while it is down', () => {
    const { h, l2, sink } = setup()
    l2.up = false
    h.sup.submit(h.request(marketBody('m-1')), sink)
    expect(l2.lookups).toHaveLength(0)
    expect(h.upstream.pending).toHaveLength(1)
  })

  it('serves an answer found in L2 as a cache hit, without the upstream, and keeps it in L1', () => {
    const { h, l2, sink } = setup()
    const answer = computedElsewhere('m-1')
    h.sup.submit(h.request(marketBody('m-1')), sink)
    h.sup.onL2((l2.lookups[0] as { ticket: number }).ticket, { kind: 'hit', entry: { value: answer, storedAt: h.clock.now() } })
    expect(sink.answers[0]?.meta.cache_hit).toBe(true)
    expect(sink.answers[0]?.yhat_q).toEqual(answer.yhat_q)
    h.sup.submit(h.request(marketBody('m-1')), sink)
    expect(l2.lookups).toHaveLength(1)
    expect(h.upstream.pending).toHaveLength(0)
  })

  it('waits for the daemon holding the lease and serves what it publishes', () => {
    const { h, l2, sink } = setup()
    const answer = computedElsewhere('m-1')
    h.sup.submit(h.request(marketBody('m-1')), sink)
    h.sup.onL2((l2.lookups[0] as { ticket: number }).ticket, { kind: 'leased' })
    expect(l2.waits).toHaveLength(1)
    expect(h.upstream.pending).toHaveLength(0)
    h.sup.onL2((l2.waits[0] as { ticket: number }).ticket, { kind: 'published', entry: { value: answer, storedAt: h.clock.now() } })
    expect(sink.answers).toHaveLength(1)
    expect(sink.answers[0]?.meta.cache_hit).toBe(true)
    expect(h.upstream.pending).toHaveLength(0)
  })

  it('computes itself when the daemon holding the lease gives up', () => {
    const { h, l2, sink } = setup()
    h.sup.submit(h.request(marketBody('m-1')), sink)
    h.sup.onL2((l2.lookups[0] as { ticket: number }).ticket, { kind: 'leased' })
    h.sup.onL2((l2.waits[0] as { ticket: number }).ticket, { kind: 'published', entry: null })
    expect(h.upstream.pending).toHaveLength(1)
  })

  it('gives the lease back when its answer is not worth storing', () => {
    const { h, l2, sink } = setup()
    h.sup.submit(h.request(marketBody('m-1')), sink)
    const { ticket, key } = l2.lookups[0] as { ticket: number; key: string }
    h.sup.onL2(ticket, { kind: 'miss', key, leader: true, invalid: false })
    h.upstream.failAll('upstream_http_500')
    expect(sink.answers[0]?.meta.fallback_used).toBe(true)
    expect(l2.stored).toHaveLength(0)
    expect(l2.abandoned).toEqual([key])
  })

  it('serves an L2 answer past its TTL as stale and refreshes it', () => {
    const { h, l2, sink } = setup()
    const answer = computedElsewhere('m-1')
    h.sup.submit(h.request(marketBody('m-1')), sink)
    const storedAt = h.clock.now() - (h.config.cache.ttl_s + 1) * 1000
    h.sup.onL2((l2.lookups[0] as { ticket: number }).ticket, { kind: 'hit', entry: { value: answer, storedAt } })
    expect(sink.answers[0]?.meta.cache_stale).toBe(true)
    expect(h.upstream.pending).toHaveLength(1)
  })
})
