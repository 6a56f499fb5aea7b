import { describe, expect, it } from 'vitest'
import { Answers, harness, marketBody } from '../../helpers/supervisor-harness.js'

/** Which caller's request id an upstream job carries (issue 13). */
describe('the request id of an upstream job', () => {
  it("is the caller's, or null without one", () => {
    const h = harness()
    const a = new Answers()
    h.sup.submit(h.request(marketBody('m-1')), a, { requestId: 'caller-1' })
    h.sup.submit(h.request(marketBody('m-2')), a)
    h.sup.submit(h.request(marketBody('m-3')), a, { priority: 'high' })
    expect(h.upstream.jobs.map((j) => j.request_id)).toEqual(['caller-1', null, null])
  })

  it('is the id of the request that started the flight, not of one that joined it', () => {
    const h = harness()
    const a = new Answers()
    h.sup.submit(h.request(marketBody('m-1')), a, { requestId: 'first' })
    h.sup.submit(h.request(marketBody('m-1')), a, { requestId: 'joined' })
    expect(h.upstream.jobs.map((j) => j.request_id)).toEqual(['first'])
    h.upstream.succeedAll()
    expect(a.answers).toHaveLength(2)
  })

  it('of a stale-while-revalidate refresh is the id of the request whose hit started it', () => {
    const h = harness({ tsfm: { cache: { ttl_s: 1, stale_while_revalidate_s: 5 } } })
    const a = new Answers()
    h.sup.submit(h.request(marketBody('m-1')), a, { requestId: 'fill' })
    h.upstream.succeedAll()
    h.clock.advance(1500)
    h.sup.submit(h.request(marketBody('m-1')), a, { requestId: 'stale-hit' })
    expect(a.answers.at(-1)!.meta.cache_stale).toBe(true)
    expect(h.upstream.jobs.map((j) => j.request_id)).toEqual(['fill', 'stale-hit'])
  })
})
