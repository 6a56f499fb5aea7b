import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULTS } from '../../../src/config/defaults.js'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { Harness, until } from './harness.js'

/** Connection reuse and the caps of SPEC §7 (`max_connections`, `max_keepalive_connections`). */

let sim: Simulator | null = null
let h: Harness | null = null

afterEach(async () => {
  await h?.close()
  await sim?.close()
  h = null
  sim = null
})

describe('keep-alive', () => {
  it('reuses one connection for 1 000 sequential jobs', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 0, latencyPerSeriesMs: 0 })
    h = await Harness.start(sim.url, { batch_window_ms: 0 })
    for (let i = 0; i < 1000; i++) {
      const out = await h.wait(h.submit({ y: new Float64Array(8).fill(0.4) }))
      if (!out[0]!.outcome.ok) throw new Error(`job ${i} failed: ${out[0]!.outcome.reason}`)
    }
    const s = sim.stats()
    expect(s.forecastRequests).toBe(1000)
    expect(s.connections).toBeLessThanOrEqual(2)
    expect(s.openConnections).toBeLessThanOrEqual(2)
  })

  it('opens at most max_connections connections under a burst', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 40, serial: false })
    // one series per request and twelve requests in flight at once
    h = await Harness.start(sim.url, { batch_window_ms: 0, batch_max_series: 1, max_connections: 3, max_keepalive_connections: 3, lane: { ...DEFAULTS.adapter.lane, initial_inflight: 12 } })
    const out = await h.wait(h.submit(...Array.from({ length: 12 }, () => ({}))))
    expect(out.every((a) => a.outcome.ok)).toBe(true)
    expect(sim.stats().connections).toBe(3)
    expect(sim.stats().maxConcurrent).toBe(3)
  })

  it('keeps at most max_keepalive_connections idle connections after a burst', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 40, serial: false })
    h = await Harness.start(sim.url, { batch_window_ms: 0, batch_max_series: 1, max_connections: 10, max_keepalive_connections: 2, lane: { ...DEFAULTS.adapter.lane, initial_inflight: 10 } })
    const out = await h.wait(h.submit(...Array.from({ length: 10 }, () => ({}))))
    expect(out.every((a) => a.outcome.ok)).toBe(true)
    expect(sim.stats().connections).toBe(10)
    await until(() => sim!.stats().openConnections === 2, 3000)
    // The kept ones still serve: a new burst of two needs no new connection.
    sim.resetStats()
    await h.wait(h.submit({}, {}))
    expect(sim.stats().connections).toBe(0)
  })
})
