import { describe, expect, it } from 'vitest'
import { Answers, harness, marketBody } from '../../helpers/supervisor-harness.js'

/**
 * Regression (reliability issue, item 4): a client that joined a stale-while-revalidate refresh
 * waited the whole budget and got `deadline_exceeded` when the refresh fell back, because the
 * fallback paths skipped flights flagged as background.
 */
describe('a client that joins a stale-while-revalidate refresh', () => {
  // ttl 1 s, then stale for 1 s; no stale-if-error beyond that
  const config = { tsfm: { cache: { ttl_s: 1, stale_while_revalidate_s: 1, stale_if_error_s: 0 } } }

  function refreshInFlightAndExpired() {
    const h = harness(config)
    const a = new Answers()
    const body = marketBody('m-1')
    h.sup.submit(h.request(body), a)
    h.upstream.succeedAll()
    h.clock.advance(1500)
    h.sup.submit(h.request(body), a) // stale at once, refresh starts
    expect(a.answers.at(-1)!.meta.cache_stale).toBe(true)
    expect(h.upstream.pending).toHaveLength(1)
    h.clock.advance(1000) // the entry is past ttl + swr: a miss, which joins the refresh
    const joiner = new Answers()
    h.sup.submit(h.request(body), joiner)
    expect(h.upstream.pending).toHaveLength(1)
    return { h, joiner }
  }

  it('gets the upstream answer when the refresh succeeds', () => {
    const { h, joiner } = refreshInFlightAndExpired()
    h.upstream.succeedAll()
    expect(joiner.answers.map((r) => r.meta.runtime)).toEqual(['tollama'])
  })

  it('gets a prompt fallback, not deadline_exceeded, when the refresh fails', () => {
    const { h, joiner } = refreshInFlightAndExpired()
    h.clock.advance(20)
    h.upstream.failAll('upstream_http_503')
    expect(joiner.reasons()).toEqual(['upstream_http_503'])
    expect(joiner.answers[0]!.meta.timings_ms.total).toBe(20)
  })

  it('gets a prompt queue_timeout when its lane sheds the refresh', () => {
    const { h, joiner } = refreshInFlightAndExpired()
    h.clock.advance(5)
    h.upstream.failAll('queue_timeout')
    expect(joiner.reasons()).toEqual(['queue_timeout'])
    expect(joiner.answers[0]!.meta.timings_ms.total).toBe(5)
  })
})
