import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js'
import { probabilities } from '../../helpers/request-bodies.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe('X-Request-Id', () => {
  let d: TestDaemon
  const body = { market_id: 'rid', as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(8) }

  beforeAll(async () => {
    d = await startTestDaemon()
  })
  afterAll(async () => {
    await d.close()
  })

  it("echoes the caller's id on the answer", async () => {
    const r = await call(d.url, '/tsfm/forecast', { body, headers: { 'x-request-id': 'trader-7:cycle-42:m-1' } })
    expect(r.headers['x-request-id']).toBe('trader-7:cycle-42:m-1')
  })

  it('gives a fresh UUID to a request without one, errors and health checks included', async () => {
    const a = await call(d.url, '/tsfm/forecast', { body })
    const b = await call(d.url, '/tsfm/forecast', { body: { market_id: 'x' } })
    const c = await call(d.url, '/health/live')
    expect(b.status).toBe(400)
    for (const r of [a, b, c]) expect(r.headers['x-request-id']).toMatch(UUID)
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id'])
  })

  it('replaces an id that is too long or not a plain token', async () => {
    for (const bad of ['x'.repeat(129), 'has space', 'tab\there']) {
      const r = await call(d.url, '/tsfm/forecast', { body, headers: { 'x-request-id': bad } })
      expect(r.headers['x-request-id']).toMatch(UUID)
    }
  })

  it('times requests by route and status, and cycles, in seconds', async () => {
    await call(d.url, '/tsfm/cycle', { body: { requests: [body, { ...body, market_id: 'rid-2' }] } })
    await call(d.url, '/nowhere')
    const text = (await call(d.url, '/metrics')).text
    expect(text).toMatch(/tsfm_http_request_duration_seconds_count\{route="\/tsfm\/forecast",status="200"\} [1-9]/)
    expect(text).toMatch(/tsfm_http_request_duration_seconds_count\{route="\/tsfm\/forecast",status="400"\} [1-9]/)
    expect(text).toMatch(/tsfm_http_request_duration_seconds_count\{route="other",status="404"\} 1/)
    expect(text).toMatch(/tsfm_cycle_duration_seconds_count 1/)
  })

  describe('sent upstream', () => {
    // Long enough for the upstream (a short series is answered from the baseline), one market each.
    const fresh = (market: string) => ({ ...body, market_id: market, y: probabilities(64) })
    const lastSeen = () => d.sim.stats().requestIds.at(-1)

    it("sends the caller's X-Request-Id with its series", async () => {
      const r = await call(d.url, '/tsfm/forecast', { body: fresh('up-1'), headers: { 'x-request-id': 'abc-1' } })
      expect(r.body.meta.runtime).toBe('tollama')
      expect(lastSeen()).toEqual({ id: 'abc-1', members: null })
    })

    it('sends the id generated for a request without one (the one echoed)', async () => {
      const r = await call(d.url, '/tsfm/forecast', { body: fresh('up-2') })
      expect(r.body.meta.runtime).toBe('tollama')
      expect(lastSeen()?.id).toBe(r.headers['x-request-id'])
    })

    it("sends a cycle's markets with the cycle's id", async () => {
      d.sim.resetStats()
      const r = await call(d.url, '/tsfm/cycle', { body: { requests: [fresh('up-c1'), fresh('up-c2')] }, headers: { 'x-request-id': 'cyc-1' } })
      expect(r.status).toBe(200)
      const seen = d.sim.stats().requestIds
      expect(seen.length).toBeGreaterThan(0)
      // One request of both (the ids listed once) or one request each (each its caller's id).
      for (const s of seen) expect(s.members === null ? s.id : s.members).toBe('cyc-1')
    })
  })
})
