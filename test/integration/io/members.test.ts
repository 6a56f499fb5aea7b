import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { sharedNow } from '../../../src/clock/clock.js'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { Harness, verdict } from './harness.js'

/**
 * Each member of a multiplexed request keeps its own deadline and retry allowance (SPEC §7),
 * through the real thread and the simulator: a probe or end-of-cycle job (short deadline, no
 * retries) sharing a request with fresh jobs cuts neither their attempt nor their retry.
 * makeJob's default is a fresh job: 1200 ms attempts, 1 retry, deadline 1.6 s ahead. Each test
 * gets its own actor: a lane's cost model learns from what came before (an 800 ms upstream makes
 * it shed a 310 ms deadline at once, rightly).
 */

let sim: Simulator
let h: Harness

beforeAll(async () => {
  sim = await startSimulator({ port: 0, latencyFixedMs: 5, latencyPerSeriesMs: 0 })
})

afterAll(async () => {
  await sim.close()
})

beforeEach(async () => {
  sim.setFaults({ schedule: [] })
  sim.setLatency({ fixedMs: 5 })
  sim.resetStats()
  h = await Harness.start(sim.url, { batch_window_ms: 2, batch_max_series: 32 })
})

afterEach(async () => {
  await h.close()
  expect(h.duplicates).toEqual([])
})

describe('members of one multiplexed request', () => {
  it('keeps the fresh members\' attempt timeout when a short-deadline member without retries shares their request', async () => {
    // ~0.8 s upstream: the short member's own limit (≈ 550 ms) would time out the request.
    sim.setLatency({ fixedMs: 800 })
    const start = sharedNow()
    const jobs = h.submit({}, {}, { deadline: start + 600, attempt_timeout_ms: 900, max_retries: 0 })
    const out = await h.wait(jobs)
    expect(sim.stats().batchSizes).toEqual([3])
    expect(out.slice(0, 2).map(verdict)).toEqual(Array(2).fill({ reason: 'ok', attempts: 1 }))
    // The short member is failed by the host at its own deadline; the request ran on for the others.
    expect(verdict(out[2]!)).toEqual({ reason: 'deadline_exceeded', attempts: 0 })
    expect(sim.stats().forecastRequests).toBe(1)
  })

  it('retries only the members with retries left, and each ends with its own verdict', async () => {
    sim.setFaults({ schedule: ['http_503', 'ok'] })
    const before = h.records.length
    const jobs = h.submit({ max_retries: 0 }, { max_retries: 1 })
    const out = await h.wait(jobs)
    expect(out.map(verdict)).toEqual([
      { reason: 'upstream_http_503', attempts: 1 },
      { reason: 'ok', attempts: 2 },
    ])
    // The retry carried only the member that retries.
    expect(sim.stats().forecastRequests).toBe(2)
    expect(sim.stats().seriesTotal).toBe(3)
    expect(h.records.slice(before).map((r) => [r.outcome, r.series])).toEqual([
      ['upstream_http_503', 2],
      ['ok', 1],
    ])
    // One group, one batch id, whatever each member's verdict.
    expect(new Set(out.map((a) => a.outcome.batch_id)).size).toBe(1)
  })

  it('retries only the members whose own deadline leaves room for a retry', async () => {
    sim.setFaults({ schedule: ['http_503', 'ok'] })
    const start = sharedNow()
    // 310 ms: the first attempt fits, but not the 250 ms retry envelope + 50 ms post-processing after it.
    const jobs = h.submit({}, { deadline: start + 310 })
    const out = await h.wait(jobs)
    expect(out.map(verdict)).toEqual([
      { reason: 'ok', attempts: 2 },
      { reason: 'upstream_http_503', attempts: 1 },
    ])
    expect(sim.stats().seriesTotal).toBe(3)
  })

  it('sheds alone, at once, a member that cannot finish in time, and sends the others without it', async () => {
    const start = sharedNow()
    // 40 ms ahead is inside the 50 ms post-processing budget: its lane sheds it on arrival.
    const jobs = h.submit({}, {}, { deadline: start + 40 })
    const out = await h.wait(jobs)
    expect(out.map(verdict)).toEqual([
      { reason: 'ok', attempts: 1 },
      { reason: 'ok', attempts: 1 },
      { reason: 'queue_timeout', attempts: 0 },
    ])
    expect(sim.stats().batchSizes).toEqual([2])
  })

  it('gives every outcome of a group the size of the request that last carried it', async () => {
    sim.setFaults({ schedule: ['http_503', 'ok'] })
    const out = await h.wait(h.submit({ max_retries: 0 }, {}, {}))
    expect(out.map((a) => [verdict(a).reason, a.outcome.batch_size])).toEqual([
      ['upstream_http_503', 3],
      ['ok', 2],
      ['ok', 2],
    ])
  })
})
