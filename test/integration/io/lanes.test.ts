import { afterEach, describe, expect, it } from 'vitest'
import { sharedNow } from '../../../src/clock/clock.js'
import { DEFAULTS } from '../../../src/config/defaults.js'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { createRunner, type Runner } from '../../../src/runner.js'
import { probabilities } from '../../helpers/request-bodies.js'
import { Harness } from './harness.js'

/**
 * Lanes through the real I/O thread against the simulator with tollama's shape: one request at a
 * time per model (`serial`), a fixed cost plus a cost per series.
 */
let sim: Simulator | null = null
let h: Harness | null = null
let runner: Runner | null = null

afterEach(async () => {
  await h?.close()
  await runner?.close()
  await sim?.close()
  h = runner = sim = null
})

describe('upstream lanes', () => {
  it('serve two models side by side, each serially', async () => {
    sim = await startSimulator({ port: 0, serial: true, latencyFixedMs: 150, latencyPerSeriesMs: 0 })
    h = await Harness.start(sim.url, { batch_window_ms: 0, batch_max_series: 1, lane: { ...DEFAULTS.adapter.lane, initial_inflight: 4 } })
    const t0 = sharedNow()
    const jobs = h.submit(...['a', 'a', 'b', 'b'].map((model, i) => ({ model, series_id: `${model}-${i}` })))
    const out = await h.wait(jobs)
    expect(out.every((o) => o.outcome.ok)).toBe(true)
    // two requests per model one after the other (~300 ms), the two models at once (not ~600 ms)
    const wall = sharedNow() - t0
    expect(wall).toBeGreaterThan(290)
    expect(wall).toBeLessThan(550)
    const byModel = sim.stats().byModel
    expect(byModel.a?.maxConcurrent).toBe(1)
    expect(byModel.b?.maxConcurrent).toBe(1)
    const lanes = (await h.actor.stats()).lanes.map((l) => l.lane).sort()
    expect(lanes).toEqual(['a', 'b'])
  })

  it('do not refuse a model because another model fails', async () => {
    sim = await startSimulator({ port: 0, models: ['mock', 'other'], latencyFixedMs: 5 })
    runner = await createRunner({
      config: { tsfm: { adapter: { base_url: sim.url, health_interval_s: 0, warmup: { enabled: false }, model: 'mock' } } },
      defaultMetrics: false,
      checkModels: false,
    })
    const body = (market: string, model?: string) => ({ market_id: market, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64), ...(model === undefined ? {} : { model: { model_name: model } }) })
    // the default model's lane fails five requests in a row: its breaker opens
    sim.setFaults({ schedule: Array.from({ length: 5 }, () => 'http_500' as const) })
    for (let i = 0; i < 5; i++) await runner.forecast(body(`x-${i}`))
    expect(runner.state().lanes.mock?.breaker?.state).toBe('open')
    const refused = await runner.forecast(body('y-1'))
    expect(refused.meta.fallback_reason).toBe('circuit_breaker_open')
    // another model, on its own lane, is still served by the upstream
    const other = await runner.forecast(body('z-1', 'other'))
    expect(other.meta.runtime).toBe('tollama')
    expect(runner.state().lanes.other?.breaker?.state).toBe('closed')
  })

  it('keep one upstream call per market at a time', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 60, latencyPerSeriesMs: 0 })
    runner = await createRunner({ config: { tsfm: { adapter: { base_url: sim.url, health_interval_s: 0, warmup: { enabled: false } }, perf: { mailbox_capacity: 64 } } }, defaultMetrics: false, checkModels: false })
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        runner!.forecast({ market_id: 'one', as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64), horizon_steps: i + 1 }),
      ),
    )
    expect(answers.every((a) => a.meta.runtime === 'tollama' || a.meta.fallback_reason === 'queue_timeout')).toBe(true)
    // every request was for one market: never two of its series in one request or at once
    expect(sim.stats().batchSizes.every((n) => n === 1)).toBe(true)
    expect(sim.stats().maxConcurrent).toBe(1)
  })
})
