import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js'
import { probabilities } from '../../helpers/request-bodies.js'

const OLD = 'old-token-0123456789abcdef'
const NEW = 'new-token-0123456789abcdef'
const SCRAPER = 'scraper-token-0123456789ab'
const body = { market_id: 'auth-1', as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(8) }
const bearer = (t: string) => ({ authorization: `Bearer ${t}` })

describe('auth for real deployments', () => {
  let d: TestDaemon

  beforeAll(async () => {
    d = await startTestDaemon({ config: { tsfm: { server: { api_token: OLD, api_tokens: [NEW], metrics_token: SCRAPER, rate_limit: { enabled: true, burst: 3, refill_per_s: 0.001 } } } } })
  })
  afterAll(async () => {
    await d.close()
  })

  it('accepts the old and the new token during a rotation, and nothing else', async () => {
    expect((await call(d.url, '/tsfm/forecast', { body, headers: bearer(OLD) })).status).toBe(200)
    expect((await call(d.url, '/tsfm/forecast', { body, headers: { 'x-api-key': NEW } })).status).toBe(200)
    expect((await call(d.url, '/tsfm/forecast', { body, headers: bearer('other-token-0123456789abcd') })).status).toBe(401)
  })

  it('opens /metrics, and only /metrics, with the metrics token', async () => {
    expect((await call(d.url, '/metrics', { headers: bearer(SCRAPER) })).status).toBe(200)
    expect((await call(d.url, '/metrics', { headers: bearer(NEW) })).status).toBe(200)
    expect((await call(d.url, '/metrics')).status).toBe(401)
    expect((await call(d.url, '/tsfm/forecast', { body, headers: bearer(SCRAPER) })).status).toBe(401)
    expect((await call(d.url, '/tsfm/state', { headers: bearer(SCRAPER) })).status).toBe(401)
  })

  it('gives each token its own rate-limit bucket', async () => {
    // OLD spent 1 of its 3 above, NEW 1: OLD runs out, NEW still has room.
    const old = [] as number[]
    for (let i = 0; i < 3; i++) old.push((await call(d.url, '/tsfm/state', { headers: bearer(OLD) })).status)
    expect(old).toEqual([200, 200, 429])
    expect((await call(d.url, '/tsfm/state', { headers: bearer(NEW) })).status).toBe(200)
  })
})

describe('clients behind a trusted proxy', () => {
  let d: TestDaemon

  beforeAll(async () => {
    d = await startTestDaemon({ config: { tsfm: { server: { trust_proxy: ['127.0.0.1'], rate_limit: { enabled: true, burst: 2, refill_per_s: 0.001 } } } } })
  })
  afterAll(async () => {
    await d.close()
  })

  it('get one rate-limit bucket each, named by X-Forwarded-For', async () => {
    const a = [] as number[]
    for (let i = 0; i < 3; i++) a.push((await call(d.url, '/tsfm/state', { headers: { 'x-forwarded-for': '203.0.113.7' } })).status)
    expect(a).toEqual([200, 200, 429])
    expect((await call(d.url, '/tsfm/state', { headers: { 'x-forwarded-for': '203.0.113.8' } })).status).toBe(200)
  })
})

describe('without a trusted proxy', () => {
  let d: TestDaemon

  beforeAll(async () => {
    d = await startTestDaemon({ config: { tsfm: { server: { rate_limit: { enabled: true, burst: 2, refill_per_s: 0.001 } } } } })
  })
  afterAll(async () => {
    await d.close()
  })

  it('ignores X-Forwarded-For: a client cannot pick its own bucket', async () => {
    const s = [] as number[]
    for (let i = 0; i < 3; i++) s.push((await call(d.url, '/tsfm/state', { headers: { 'x-forwarded-for': `198.51.100.${i}` } })).status)
    expect(s).toEqual([200, 200, 429])
  })
})
