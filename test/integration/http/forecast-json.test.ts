import fastJson from 'fast-json-stringify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { forecastResponseSchema } from '../../../src/http/schemas.js'
import { call, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js'
import { fiveMinuteStamps, probabilities } from '../../helpers/request-bodies.js'

/** The bytes fastify's compiled serializer writes for an answer (what the route sent before ForecastJson). */
const fastify = fastJson(forecastResponseSchema)

let d: TestDaemon
beforeAll(async () => {
  d = await startTestDaemon()
})
afterAll(async () => {
  await d.close()
})

describe('POST /tsfm/forecast answer bytes', () => {
  it('are what the compiled schema serializer writes, for the first answer and for cache hits', async () => {
    const body = { market_id: 'm-json', as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64), y_ts: fiveMinuteStamps(64), horizon_steps: 5 }
    const first = await call(d.url, '/tsfm/forecast', { body })
    const second = await call(d.url, '/tsfm/forecast', { body })
    const third = await call(d.url, '/tsfm/forecast', { body })
    expect([first.status, second.status, third.status]).toEqual([200, 200, 200])
    expect([first.body.meta.cache_hit, second.body.meta.cache_hit, third.body.meta.cache_hit]).toEqual([false, true, true])
    for (const r of [first, second, third]) {
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8')
      expect(r.text).toBe(fastify(r.body))
    }
    expect(third.body.yhat_q).toEqual(first.body.yhat_q)
  })

  it('still answers errors with their own JSON', async () => {
    const r = await call(d.url, '/tsfm/forecast', { body: { market_id: 'm-json', as_of_ts: '2026-02-20T00:00:00Z', y: [2, 3] } })
    expect(r.status).toBe(400)
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(r.body.error.code).toBe('TSFM_Y_VALUE')
  })
})
