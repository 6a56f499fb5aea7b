import { afterEach, describe, expect, it } from 'vitest'
import { createRunner, type Runner } from '../../../src/runner.js'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { capturingLogger } from '../../helpers/log-lines.js'
import { probabilities } from '../../helpers/request-bodies.js'

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
}

describe('a runner starting in front of tollama', () => {
  let sim: Simulator | null = null
  let runner: Runner | null = null
  afterEach(async () => {
    await runner?.close()
    await sim?.close()
    runner = null
    sim = null
  })

  it('warns when the configured model is not installed (only mock is)', async () => {
    sim = await startSimulator({ port: 0, models: ['mock'], latencyFixedMs: 1 })
    const { logger, lines } = capturingLogger()
    runner = await createRunner({ config: { tsfm: { adapter: { base_url: sim.url, health_interval_s: 0, warmup: { enabled: false } } } }, logger, defaultMetrics: false })
    await until(() => lines().some((l) => l.event === 'model_missing'))
    const warning = lines().find((l) => l.event === 'model_missing')
    expect(warning).toMatchObject({ level: 40, model: 'chronos2', installed: ['mock'] })
  })

  it('counts an upstream answer that comes back after its request was answered at its deadline', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 400, latencyPerSeriesMs: 0 })
    runner = await createRunner({ config: { tsfm: { adapter: { base_url: sim.url, health_interval_s: 0, warmup: { enabled: false } } } }, defaultMetrics: false, checkModels: false })
    const body = (id: string) => ({ market_id: id, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) })
    // one request with the whole budget and a cycle with 300 ms share one upstream request, which
    // is timed by its longest member: the cycle's member is answered at its deadline, and its
    // upstream answer arrives ~150 ms later
    const long = runner.forecast(body('long'))
    const items = []
    for await (const item of runner.cycle([body('short')], { budgetMs: 300 })) items.push(item)
    expect(items[0]!.response.meta.fallback_reason).toBe('deadline_exceeded')
    expect((await long).meta.runtime).toBe('tollama')
    await until(() => runner!.state().late_results_dropped > 0)
    expect(runner.state().late_results_dropped).toBe(1)
    expect(sim.stats().forecastRequests).toBe(1)
  })

  it('warms the default model at start by default, so its first forecast pays no cold start', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 5, coldStartMs: 400 })
    runner = await createRunner({ config: { tsfm: { adapter: { base_url: sim.url, health_interval_s: 0 } } }, defaultMetrics: false, checkModels: false })
    await until(() => sim!.stats().coldStarts === 1)
    await until(() => (sim!.stats().byModel.chronos2?.busyMs ?? 0) >= 400) // the warm-up is done
    const r = await runner.forecast({ market_id: 'first', as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) })
    expect(r.meta.runtime).toBe('tollama')
    expect(r.meta.timings_ms.upstream).toBeLessThan(300)
    expect(sim.stats().coldStarts).toBe(1)
  })
})
