import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { call, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js'
import { probabilities } from '../../helpers/request-bodies.js'

/** The request body from the Python service's docs (docs/prd2-implementation-status.md), unchanged. */
const PYTHON_DOCS_BODY = `{
    "market_id":"m-1",
    "as_of_ts":"2026-02-20T12:00:00Z",
    "freq":"5m",
    "horizon_steps":12,
    "quantiles":[0.1,0.5,0.9],
    "y":[0.41,0.42,0.40,0.43,0.44,0.45,0.46,0.45,0.44,0.43,0.42,0.41,0.40,0.41,0.42,0.43,0.44,0.45,0.46,0.47,0.48,0.47,0.46,0.45,0.44,0.43,0.42,0.41,0.40,0.41,0.42,0.43],
    "transform":{"space":"logit","eps":1e-6},
    "model":{"provider":"tollama","model_name":"chronos","params":{"temperature":0.0}}
  }`

function body(market: string, n = 64, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { market_id: market, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(n), ...extra }
}

function expectErrorShape(r: { body: any }, code: string): void {
  expect(r.body.error.code).toBe(code)
  expect(typeof r.body.error.message).toBe('string')
  expect(r.body.detail).toBe(r.body.error.message)
  expect('path' in r.body.error).toBe(true)
  expect(JSON.stringify(r.body)).not.toMatch(/at .*\.js:\d+|127\.0\.0\.1:\d+|stack/)
}

describe('HTTP daemon', () => {
  let d: TestDaemon

  beforeAll(async () => {
    d = await startTestDaemon()
  })
  afterAll(async () => {
    await d.close()
  })

  it('answers 200 from the upstream with the Python service fields plus timings', async () => {
    const r = await call(d.url, '/tsfm/forecast', { body: body('m-200') })
    expect(r.status).toBe(200)
    expect(r.body.meta.runtime).toBe('tollama')
    expect(r.body.meta.fallback_used).toBe(false)
    expect(Object.keys(r.body.yhat_q)).toEqual(['0.1', '0.5', '0.9'])
    expect(r.body.meta.timings_ms.total).toBeGreaterThan(0)
    expect(r.body.conformal_last_step).toBeNull()
    for (const k of ['cache_hit', 'cache_stale', 'circuit_breaker_state', 'degradation_state', 'route_selected', 'route_reason', 'input_len', 'warnings']) {
      expect(r.body.meta).toHaveProperty(k)
    }
  })

  it('accepts the request body from the Python service docs unchanged', async () => {
    const r = await call(d.url, '/tsfm/forecast', { raw: PYTHON_DOCS_BODY })
    expect(r.status).toBe(200)
    expect(r.body.market_id).toBe('m-1')
    expect(r.body.meta.model_name).toBe('chronos')
    expect(r.body.yhat_q['0.5']).toHaveLength(12)
  })

  it('answers 400 with both error shapes, naming the field and quoting the value', async () => {
    const r = await call(d.url, '/tsfm/forecast', { body: body('m-1', 64, { freq: '5min' }) })
    expect(r.status).toBe(400)
    expectErrorShape(r, 'TSFM_FREQ')
    expect(r.body.error.path).toBe('freq')
    expect(r.body.error.message).toContain('"5min"')
  })

  it('answers 400 for malformed JSON and for a __proto__ key', async () => {
    const bad = await call(d.url, '/tsfm/forecast', { raw: '{"market_id": "m-1", "y": [0.1,' })
    expect(bad.status).toBe(400)
    expectErrorShape(bad, 'TSFM_INVALID_JSON')
    const proto = await call(d.url, '/tsfm/forecast', { raw: '{"market_id":"m","__proto__":{"x":1}}' })
    expect(proto.status).toBe(400)
    expectErrorShape(proto, 'TSFM_INVALID_JSON')
  })

  it('answers 413 for a body over the limit', async () => {
    const r = await call(d.url, '/tsfm/forecast', { raw: `{"pad":"${'x'.repeat(2 * 1024 * 1024)}"}` })
    expect(r.status).toBe(413)
    expectErrorShape(r, 'TSFM_BODY_TOO_LARGE')
  })

  it('answers 415 for a body that is not JSON', async () => {
    const r = await call(d.url, '/tsfm/forecast', { raw: 'market_id=m-1', headers: { 'content-type': 'text/plain' } })
    expect(r.status).toBe(415)
    expectErrorShape(r, 'TSFM_UNSUPPORTED_MEDIA_TYPE')
  })

  it('answers 404 and 405 in the same error shape', async () => {
    const nf = await call(d.url, '/nope')
    expect(nf.status).toBe(404)
    expectErrorShape(nf, 'TSFM_NOT_FOUND')
    const na = await call(d.url, '/tsfm/forecast', { method: 'GET' })
    expect(na.status).toBe(405)
    expect(na.headers.allow).toBe('POST')
    expectErrorShape(na, 'TSFM_METHOD_NOT_ALLOWED')
  })

  it('answers the health probes and the state', async () => {
    expect((await call(d.url, '/health/live')).body).toEqual({ status: 'ok' })
    expect((await call(d.url, '/health/ready')).status).toBe(200)
    expect((await call(d.url, '/health/startup')).status).toBe(200)
    const s = await call(d.url, '/tsfm/state')
    expect(s.body.breaker.state).toBe('closed')
    expect(s.body.mode.mode).toBe('normal')
    expect(s.body.queue.worker_concurrency).toBe(32)
  })

  it('answers a JSON cycle with results in request order and a summary', async () => {
    const requests = [body('c-1', 64, { liquidity_bucket: 'low' }), body('c-2', 64, { liquidity_bucket: 'high' }), body('c-3')]
    const r = await call(d.url, '/tsfm/cycle', { body: { requests, budget_ms: 5000 } })
    expect(r.status).toBe(200)
    expect(r.body.results.map((x: any) => x.market_id)).toEqual(['c-1', 'c-2', 'c-3'])
    expect(r.body.results[0].meta.fallback_reason).toBe('baseline_only_liquidity_bucket')
    expect(r.body.summary.count).toBe(3)
    expect(r.body.summary.by_runtime).toEqual({ baseline: 1, tollama: 2 })
  })
})

describe('HTTP daemon protection', () => {
  it('answers 401 without or with a wrong token, 200 with Bearer or X-API-Key, health exempt', async () => {
    const d = await startTestDaemon({ config: { tsfm: { server: { api_token: 'a-long-random-token-for-tests-0123' } } } })
    try {
      const none = await call(d.url, '/tsfm/forecast', { body: body('m-1') })
      expect(none.status).toBe(401)
      expectErrorShape(none, 'TSFM_UNAUTHORIZED')
      const wrong = await call(d.url, '/tsfm/forecast', { body: body('m-1'), headers: { authorization: 'Bearer nope' } })
      expect(wrong.status).toBe(401)
      const bearer = await call(d.url, '/tsfm/forecast', { body: body('m-1'), headers: { authorization: 'Bearer a-long-random-token-for-tests-0123' } })
      expect(bearer.status).toBe(200)
      const key = await call(d.url, '/tsfm/forecast', { body: body('m-1'), headers: { 'x-api-key': 'a-long-random-token-for-tests-0123' } })
      expect(key.status).toBe(200)
      expect((await call(d.url, '/health/live')).status).toBe(200)
    } finally {
      await d.close()
    }
  })

  it('answers 429 with Retry-After once the token bucket is empty', async () => {
    const d = await startTestDaemon({ config: { tsfm: { server: { rate_limit: { enabled: true, burst: 3, refill_per_s: 0.1 } } } } })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 5; i++) statuses.push((await call(d.url, '/tsfm/forecast', { body: body('m-1', 4) })).status)
      expect(statuses).toEqual([200, 200, 200, 429, 429])
      const r = await call(d.url, '/tsfm/forecast', { body: body('m-1', 4) })
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1)
      expectErrorShape(r, 'TSFM_RATE_LIMITED')
      expect((await call(d.url, '/health/ready')).status).toBe(200)
    } finally {
      await d.close()
    }
  })

  it('answers 503 with Retry-After beyond the admission limit', async () => {
    const d = await startTestDaemon({ sim: { faults: { hang: 1 } }, config: { tsfm: { server: { admission_limit: 2 } } } })
    try {
      const slow = [call(d.url, '/tsfm/forecast', { body: body('s-1') }), call(d.url, '/tsfm/forecast', { body: body('s-2') })]
      await new Promise((r) => setTimeout(r, 100))
      const r = await call(d.url, '/tsfm/forecast', { body: body('s-3') })
      expect(r.status).toBe(503)
      expect(r.headers['retry-after']).toBe('1')
      expectErrorShape(r, 'TSFM_OVERLOADED')
      const answered = await Promise.all(slow)
      // The hung upstream times out its 1.2 s attempt; no retry fits the 1.6 s budget.
      expect(answered.map((x) => x.body.meta.fallback_reason)).toEqual(['upstream_timeout', 'upstream_timeout'])
    } finally {
      await d.close()
    }
  })

  it('streams an NDJSON cycle: lines arrive before the last market finishes', async () => {
    // one series per request, one request at a time: the four markets are answered one by one
    const d = await startTestDaemon({
      sim: { serial: true, latencyFixedMs: 60, latencyPerSeriesMs: 0 },
      config: { tsfm: { perf: { worker_concurrency: 1 }, adapter: { batch_max_series: 1, lane: { initial_inflight: 1 } } } },
    })
    try {
      const requests = [1, 2, 3, 4].map((i) => body(`n-${i}`))
      const res = await request(`${d.url}/tsfm/cycle`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
        body: JSON.stringify({ requests, budget_ms: 10_000 }),
      })
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toContain('application/x-ndjson')
      const arrivals: Array<{ at: number; line: any }> = []
      let buf = ''
      for await (const chunk of res.body) {
        buf += chunk.toString()
        let nl: number
        while ((nl = buf.indexOf('\n')) >= 0) {
          arrivals.push({ at: performance.now(), line: JSON.parse(buf.slice(0, nl)) })
          buf = buf.slice(nl + 1)
        }
      }
      expect(arrivals.map((a) => a.line.type)).toEqual(['result', 'result', 'result', 'result', 'summary'])
      // One market at a time against a 60 ms upstream: the first line is out well before the last.
      expect(arrivals[3]!.at - arrivals[0]!.at).toBeGreaterThan(100)
      expect(arrivals.slice(0, 4).every((a) => a.line.result.meta.runtime === 'tollama')).toBe(true)
      expect(arrivals[4]!.line.summary.count).toBe(4)
    } finally {
      await d.close()
    }
  })
})
