import { setImmediate as yieldLoop, setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { call, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js'
import { probabilities } from '../../helpers/request-bodies.js'

/**
 * `server.max_event_loop_delay_ms` (@fastify/under-pressure): the daemon runs in this process, so
 * a synchronous spin here lags its event loop for real. The spin comes in 300 ms chunks, with a
 * turn of the loop between them, for 2.4 s: every one-second sample the plugin takes inside it
 * sees a mean delay of ~300 ms, and the one after it still sees well over the 20 ms threshold
 * for at least ~150 ms after the spin ends (the requests are sent at once).
 */
async function lagTheLoop(ms = 2400, chunkMs = 300): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    const stop = Math.min(end, Date.now() + chunkMs)
    while (Date.now() < stop) {
      // busy: the event loop cannot turn
    }
    await yieldLoop()
  }
}

type Pressured = { isUnderPressure(): boolean; memoryUsage(): { eventLoopDelay: number } }

const forecastBody = { market_id: 'm-lag', as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) }

describe('event-loop-lag shedding (server.max_event_loop_delay_ms)', () => {
  let d: TestDaemon | null = null
  afterEach(async () => {
    await d?.close()
    d = null
  })

  it('answers 503 TSFM_OVERLOADED with Retry-After while the loop lags, keeps health and /metrics, and recovers', async () => {
    d = await startTestDaemon({ config: { tsfm: { server: { max_event_loop_delay_ms: 20 } } } })
    const server = d.server as unknown as Pressured
    // Before: a settled loop serves as usual.
    expect((await call(d.url, '/tsfm/forecast', { body: forecastBody })).status).toBe(200)

    await lagTheLoop()
    // The precondition, so the 503s below cannot come from anything else.
    expect(server.isUnderPressure()).toBe(true)
    const [forecast, state, live, ready, metrics] = await Promise.all([
      call(d.url, '/tsfm/forecast', { body: forecastBody }),
      call(d.url, '/tsfm/state'),
      call(d.url, '/health/live'),
      call(d.url, '/health/ready'),
      call(d.url, '/metrics'),
    ])
    expect(server.memoryUsage().eventLoopDelay).toBeGreaterThan(20)
    for (const r of [forecast, state]) {
      expect(r.status).toBe(503)
      expect(r.headers['retry-after']).toBe('1')
      expect(r.headers['content-type']).toMatch(/^application\/json/)
      const body = r.body as { detail: string; error: { code: string; message: string; path: string | null } }
      expect(body.error.code).toBe('TSFM_OVERLOADED')
      expect(body.error.message).toMatch(/event loop lags .* \(server\.max_event_loop_delay_ms = 20\); retry shortly$/)
      expect(body.detail).toBe(body.error.message)
      expect(body.error.path).toBeNull()
      expect(r.text).not.toMatch(/FST_UNDER_PRESSURE|statusCode|stack/)
    }
    // Liveness never fails under pressure; readiness and the metrics that explain it answer too.
    expect(live.status).toBe(200)
    expect(live.body).toEqual({ status: 'ok' })
    expect(ready.status).toBe(200)
    expect(metrics.status).toBe(200)
    expect(metrics.text).toContain('tsfm_')

    // The next sample of a quiet loop lifts it (the plugin samples once a second).
    const until = Date.now() + 5000
    while (server.isUnderPressure() && Date.now() < until) await sleep(50)
    expect(server.isUnderPressure()).toBe(false)
    expect((await call(d.url, '/tsfm/forecast', { body: forecastBody })).status).toBe(200)
  }, 20_000)

  it('is off by default: the same lag sheds nothing, and the plugin is not even registered', async () => {
    d = await startTestDaemon()
    expect(d.config.server.max_event_loop_delay_ms).toBe(0)
    expect(d.server.hasDecorator('isUnderPressure')).toBe(false)
    // Past any sample interval: with the key set, this lag is shed (the test above).
    await lagTheLoop(1200)
    const [forecast, state] = await Promise.all([call(d.url, '/tsfm/forecast', { body: forecastBody }), call(d.url, '/tsfm/state')])
    expect(forecast.status).toBe(200)
    expect(state.status).toBe(200)
  }, 20_000)
})
