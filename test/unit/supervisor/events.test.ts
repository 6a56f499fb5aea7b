import { describe, expect, it } from 'vitest'
import type { BreakerTransition } from '../../../src/supervisor/breaker.js'
import { Answers, harness, marketBody } from '../../helpers/supervisor-harness.js'

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function openBreaker(h: ReturnType<typeof harness>, a: Answers): void {
  for (let i = 0; i < 5; i++) {
    h.sup.submit(h.request(marketBody(`down-${i}`)), a)
    h.upstream.failAll('upstream_http_503')
  }
}

/**
 * Regression (reliability issue, item 3): a `breaker` listener that threw ran inside the handler,
 * before the flight's state was updated; the flight stayed `upstream` with no ticket and every
 * later identical request joined it and got `deadline_exceeded` after 1.6 s.
 */
describe('mode and breaker listeners', () => {
  it('cannot strand a request by throwing: the request that opened the breaker is answered at once', async () => {
    const h = harness()
    const a = new Answers()
    const errors: unknown[] = []
    h.sup.on('breaker', () => {
      throw new Error('listener bug')
    })
    h.sup.on('error', (e) => errors.push(e))
    openBreaker(h, a)
    expect(a.count).toBe(5)
    expect(a.reasons()).toEqual(new Array(5).fill('upstream_http_503'))

    // the same request again: refused by the open breaker now, not joined to a stuck flight
    h.sup.submit(h.request(marketBody('down-4')), a)
    expect(a.count).toBe(6)
    expect(a.answers.at(-1)!.meta.fallback_reason).toBe('circuit_breaker_open')
    expect(h.sup.state().queue.flights).toBe(0)
    await settle()
    expect(errors).toHaveLength(1)
    expect((errors[0] as Error).message).toBe('listener bug')
  })

  it('are called after the turn, with the state already consistent', async () => {
    const h = harness()
    const a = new Answers()
    const seen: { event: BreakerTransition; answered: number; flights: number }[] = []
    h.sup.on('breaker', (event) => seen.push({ event, answered: a.count, flights: h.sup.state().queue.flights }))
    openBreaker(h, a)
    expect(seen).toHaveLength(0)
    await settle()
    expect(seen).toEqual([{ event: expect.objectContaining({ from: 'closed', to: 'open' }) as BreakerTransition, answered: 5, flights: 0 }])
  })

  it('may submit from inside a listener', async () => {
    const h = harness()
    const a = new Answers()
    h.sup.on('breaker', () => h.sup.submit(h.request(marketBody('from-listener')), a))
    openBreaker(h, a)
    await settle()
    expect(a.count).toBe(6)
    expect(a.answers.at(-1)!.meta.fallback_reason).toBe('circuit_breaker_open')
  })
})
