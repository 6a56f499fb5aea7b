import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js'
import { probabilities } from '../../helpers/request-bodies.js'

/**
 * Regression (reliability issue, item 2), through real sockets against a simulator that has
 * only `mock` installed: requests naming `chronos2` once opened the breaker for everyone.
 */
describe('requests naming a model tollama does not have, mixed into normal traffic', () => {
  let d: TestDaemon
  beforeAll(async () => {
    d = await startTestDaemon({
      sim: { models: ['mock'], latencyFixedMs: 5 },
      config: { tsfm: { adapter: { model: 'mock', batch_window_ms: 0 }, server: { rate_limit: { enabled: false } } } },
    })
  })
  afterAll(async () => {
    await d.close()
  })

  it('get upstream_model_missing while the breaker stays closed, the mode normal, and valid requests come from the upstream', async () => {
    const reasons: Record<string, number> = {}
    for (let round = 0; round < 8; round++) {
      const batch = await Promise.all(
        Array.from({ length: 8 }, (_, i) => {
          const wrong = i % 2 === 0
          const body = { market_id: `m-${round}-${i}`, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64), ...(wrong ? { model: { model_name: 'chronos2' } } : {}) }
          return call(d.url, '/tsfm/forecast', { body }).then((r) => ({ wrong, r }))
        }),
      )
      for (const { wrong, r } of batch) {
        expect(r.status).toBe(200)
        const key = `${wrong ? 'wrong' : 'valid'}:${r.body.meta.runtime}:${r.body.meta.fallback_reason}`
        reasons[key] = (reasons[key] ?? 0) + 1
      }
    }
    expect(reasons).toEqual({ 'wrong:baseline:upstream_model_missing': 32, 'valid:tollama:null': 32 })
    const state = (await call(d.url, '/tsfm/state')).body
    expect(state.breaker.state).toBe('closed')
    expect(state.breaker.window_failures).toBe(0)
    expect(state.mode.mode).toBe('normal')
    expect(state.mode.failures).toBe(0)
  })
})
