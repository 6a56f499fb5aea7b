import { describe, expect, it } from 'vitest'
import { Answers, harness, marketBody } from '../../helpers/supervisor-harness.js'

/**
 * Regression (reliability issue, item 2): six requests naming a model tollama does not have
 * opened the breaker for everyone, and 13 of them under traffic kept the daemon out of normal
 * mode for 13.6 minutes. Errors the caller caused are not upstream failures (SPEC §5).
 */
describe('errors the caller caused', () => {
  it('leave the breaker closed after any number of requests naming a model that is not installed', () => {
    const h = harness()
    const a = new Answers()
    for (let i = 0; i < 12; i++) {
      h.sup.submit(h.request(marketBody(`wrong-${i}`, 64, { model: { model_name: 'chronos2' } })), a)
      h.upstream.failAll('upstream_model_missing')
    }
    expect(a.reasons()).toEqual(new Array(12).fill('upstream_model_missing'))
    expect(h.sup.breakerState).toBe('closed')

    h.sup.submit(h.request(marketBody('valid')), a)
    expect(h.upstream.pending).toHaveLength(1)
    h.upstream.succeedAll()
    expect(a.answers.at(-1)!.meta.runtime).toBe('tollama')
  })

  it.each(['upstream_http_400', 'upstream_http_413', 'upstream_http_422'] as const)('do not count %s toward the breaker either', (reason) => {
    const h = harness()
    const a = new Answers()
    for (let i = 0; i < 8; i++) {
      h.sup.submit(h.request(marketBody(`m-${i}`)), a)
      h.upstream.failAll(reason)
    }
    expect(h.sup.breakerState).toBe('closed')
    expect(h.sup.state().breaker.window_failures).toBe(0)
  })

  it('still open the breaker for upstream trouble (a 503) mixed with them', () => {
    const h = harness()
    const a = new Answers()
    for (let i = 0; i < 5; i++) {
      h.sup.submit(h.request(marketBody(`wrong-${i}`)), a)
      h.upstream.failAll('upstream_model_missing')
      h.sup.submit(h.request(marketBody(`down-${i}`)), a)
      h.upstream.failAll('upstream_http_503')
    }
    expect(h.sup.breakerState).toBe('open')
  })

  it('keep the mode normal when a quarter of the traffic names a missing model for minutes', () => {
    const h = harness()
    const a = new Answers()
    for (let s = 0; s < 600; s++) {
      h.clock.advance(1000)
      const wrong = s % 4 === 0
      h.sup.submit(h.request(marketBody(`m-${s}`, 64, wrong ? { model: { model_name: 'chronos2' } } : {})), a)
      if (wrong) h.upstream.failAll('upstream_model_missing')
      else h.upstream.succeedAll()
    }
    expect(h.sup.modeName).toBe('normal')
    expect(h.sup.breakerState).toBe('closed')
    expect(a.answers.filter((r) => r.meta.runtime === 'tollama')).toHaveLength(450)
  })

  it('hand a half-open probe permit back, so the next request can probe', () => {
    const h = harness({ tsfm: { circuit_breaker: { cooldown_s: 1, cooldown_jitter: 0, half_open_probes: 1 } } })
    const a = new Answers()
    for (let i = 0; i < 5; i++) {
      h.sup.submit(h.request(marketBody(`down-${i}`)), a)
      h.upstream.failAll('upstream_http_503')
    }
    expect(h.sup.breakerState).toBe('open')
    h.clock.advance(1001)
    h.sup.submit(h.request(marketBody('wrong')), a)
    h.upstream.failAll('upstream_model_missing')
    expect(h.sup.breakerState).toBe('half-open')
    h.sup.submit(h.request(marketBody('valid')), a)
    expect(h.upstream.pending).toHaveLength(1)
    h.upstream.succeedAll()
    expect(h.sup.breakerState).toBe('closed')
  })
})
