import { afterEach, describe, expect, it } from 'vitest'
import { sharedNow } from '../../../src/clock/clock.js'
import { DEFAULTS } from '../../../src/config/defaults.js'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { Harness } from './harness.js'

/**
 * Several tollama replicas (`adapter.base_url` a list) through the real I/O thread, against
 * simulators in tollama's shape (one request at a time per model).
 */
let sims: Simulator[] = []
let h: Harness | null = null

afterEach(async () => {
  await h?.close()
  await Promise.all(sims.map((s) => s.close()))
  h = null
  sims = []
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function replicas(n: number, opts: Parameters<typeof startSimulator>[0] = {}): Promise<Simulator[]> {
  sims = await Promise.all(Array.from({ length: n }, () => startSimulator({ port: 0, serial: true, latencyFixedMs: 150, latencyPerSeriesMs: 0, ...opts })))
  return sims
}

const oneAtATime = { batch_window_ms: 0, batch_max_series: 1, lane: { ...DEFAULTS.adapter.lane, initial_inflight: 2 } }

describe('several replicas', () => {
  it('share a model\'s batches, each replica a lane named model@host:port', async () => {
    const [a, b] = await replicas(2)
    h = await Harness.start([a!.url, b!.url], oneAtATime)
    const t0 = sharedNow()
    const out = await h.wait(h.submit(...[0, 1, 2, 3].map((i) => ({ model: 'm', series_id: `s-${i}` }))))
    expect(out.every((o) => o.outcome.ok)).toBe(true)
    // four 150 ms requests on two serial replicas: ~300 ms, not ~600 ms
    expect(sharedNow() - t0).toBeLessThan(500)
    expect(a!.stats().forecastRequests).toBe(2)
    expect(b!.stats().forecastRequests).toBe(2)
    const lanes = (await h.actor.stats()).lanes.map((l) => l.lane).sort()
    expect(lanes).toEqual([`m@127.0.0.1:${a!.port}`, `m@127.0.0.1:${b!.port}`].sort())
  })

  it('send nothing to a replica that refused until its probe answers, and serve its share elsewhere in time', async () => {
    const [a, b] = await replicas(2, { latencyFixedMs: 20 })
    const port = b!.port
    h = await Harness.start([a!.url, b!.url], oneAtATime)
    await b!.close()
    // the first batch routed to the dead replica is refused, takes it down and retries on the other
    const first = await h.wait(h.submit(...[0, 1, 2, 3].map((i) => ({ model: 'm', series_id: `x-${i}` }))))
    expect(first.every((o) => o.outcome.ok)).toBe(true)
    const more = await h.wait(h.submit(...[0, 1, 2, 3, 4, 5].map((i) => ({ model: 'm', series_id: `y-${i}` }))))
    expect(more.every((o) => o.outcome.ok)).toBe(true)
    expect(a!.stats().forecastRequests).toBe(10)
    const health = async () => Object.fromEntries((await h!.actor.stats()).lanes.map((l) => [l.lane, l.health]))
    expect(await health()).toEqual({ [`m@127.0.0.1:${a!.port}`]: 'up', [`m@127.0.0.1:${port}`]: 'down' })
    // it comes back: the probe (every 500 ms) answers, one trial batch, then its share again
    const back = await startSimulator({ port, serial: true, latencyFixedMs: 20, latencyPerSeriesMs: 0 })
    sims[1] = back
    const until = sharedNow() + 5000
    for (let round = 0; back.stats().forecastRequests <= 2 && sharedNow() < until; round++) {
      const out = await h.wait(h.submit(...[0, 1, 2, 3].map((i) => ({ model: 'm', series_id: `z-${round}-${i}` }))))
      expect(out.every((o) => o.outcome.ok)).toBe(true)
      await sleep(50)
    }
    expect(back.stats().forecastRequests).toBeGreaterThan(2)
    expect(await health()).toEqual({ [`m@127.0.0.1:${a!.port}`]: 'up', [`m@127.0.0.1:${port}`]: 'up' })
  })

  it('route a model only to the replicas that have it installed', async () => {
    sims = await Promise.all([
      startSimulator({ port: 0, serial: true, latencyFixedMs: 10, latencyPerSeriesMs: 0, models: ['m', 'only-a'] }),
      startSimulator({ port: 0, serial: true, latencyFixedMs: 10, latencyPerSeriesMs: 0, models: ['m'] }),
    ])
    const [withIt, without] = sims
    h = await Harness.start([withIt!.url, without!.url], oneAtATime)
    await sleep(150) // the replicas' /api/tags answers
    for (let round = 0; round < 3; round++) {
      const out = await h.wait(h.submit(...[0, 1, 2, 3].map((i) => ({ model: 'only-a', series_id: `s-${round}-${i}` }))))
      expect(out.every((o) => o.outcome.ok)).toBe(true)
    }
    expect(withIt!.stats().byModel['only-a']?.requests).toBe(12)
    expect(without!.stats().forecastRequests).toBe(0)
  })

  it('hedge a stalled batch of high-priority jobs on the other replica: the first answer wins', async () => {
    sims = await Promise.all([
      startSimulator({ port: 0, serial: true, latencyFixedMs: 20, latencyPerSeriesMs: 0, schedule: ['hang'], hangMs: 2000 }),
      startSimulator({ port: 0, serial: true, latencyFixedMs: 20, latencyPerSeriesMs: 0 }),
    ])
    h = await Harness.start(
      sims.map((s) => s.url),
      { ...oneAtATime, timeout_s: 1.2 },
    )
    const t0 = sharedNow()
    // both replicas idle and alike: the batch goes to the first, which stalls for 2 s
    const [out] = await h.wait(h.submit({ model: 'm', series_id: 'hi', high: true, request_id: 'hedged-1' }))
    expect(out!.outcome.ok).toBe(true)
    // hedged after the 300 ms floor, answered by the second replica ~20 ms later
    expect(out!.at - t0).toBeGreaterThanOrEqual(290)
    expect(out!.at - t0).toBeLessThan(800)
    const stats = await h.actor.stats()
    expect(stats.hedges).toBe(1)
    expect(stats.hedge_wins).toBe(1)
    expect(h.duplicates).toEqual([])
    // The hedge of a lone series goes with its caller's id, as the request it hedges.
    expect(sims.map((s) => s.stats().requestIds)).toEqual([[{ id: 'hedged-1', members: null }], [{ id: 'hedged-1', members: null }]])
  })

  it('do not hedge normal-priority jobs', async () => {
    sims = await Promise.all([
      startSimulator({ port: 0, serial: true, latencyFixedMs: 20, latencyPerSeriesMs: 0, schedule: ['hang'], hangMs: 700 }),
      startSimulator({ port: 0, serial: true, latencyFixedMs: 20, latencyPerSeriesMs: 0 }),
    ])
    h = await Harness.start(
      sims.map((s) => s.url),
      { ...oneAtATime, timeout_s: 1.2 },
    )
    const [out] = await h.wait(h.submit({ model: 'm', series_id: 'lo' }))
    expect(out!.outcome.ok).toBe(true)
    expect((await h.actor.stats()).hedges).toBe(0)
    expect(sims[1]!.stats().forecastRequests).toBe(0)
  })
})
