import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULTS } from '../../../src/config/defaults.js'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { Harness, logitOf } from './harness.js'
import { shuffleForecasts, startProxy, type Proxy } from './proxy.js'
import type { UpstreamJob } from '../../../src/io/types.js'

/**
 * Multiplexing through the real thread: jobs of one turn become one multi-series request, and
 * the answer is split back by series id. The simulator's median is the last (logit) target value,
 * so every job gets a different last point and its median path must be exactly that logit.
 */

let sim: Simulator
let proxy: Proxy
let direct: Harness
let shuffled: Harness

const H = 12

/** Job i ends at probability 0.01 + i/100, so its median path is logit of that. */
function distinct(n: number, from = 0): Partial<UpstreamJob>[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k
    const y = new Float64Array(40).fill(0.5)
    y[39] = 0.01 + i / 100
    return { series_id: `market-${i}`, y, horizon: H }
  })
}

function expectSplitById(jobs: UpstreamJob[], values: (Float64Array | null)[]): void {
  jobs.forEach((job, i) => {
    const v = values[i]!
    expect(v).toHaveLength(3 * H)
    const median = Array.from(v.subarray(H, 2 * H))
    expect(median).toEqual(Array(H).fill(logitOf(job.y[39]!)))
    // Quantile-major and ordered: 0.1 below the median below 0.9 at every step.
    for (let t = 0; t < H; t++) expect(v[t]! < v[H + t]! && v[H + t]! < v[2 * H + t]!).toBe(true)
  })
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, latencyFixedMs: 2, latencyPerSeriesMs: 0.05 })
  proxy = await startProxy(sim.url, shuffleForecasts)
  direct = await Harness.start(sim.url, { batch_window_ms: 2, batch_max_series: 32 })
  shuffled = await Harness.start(proxy.url, { batch_window_ms: 2, batch_max_series: 32 })
})

afterAll(async () => {
  await direct.close()
  await shuffled.close()
  await proxy.close()
  await sim.close()
  expect(direct.duplicates).toEqual([])
  expect(shuffled.duplicates).toEqual([])
})

beforeEach(() => sim.resetStats())

describe('multiplexing', () => {
  it('sends 32 jobs of one turn as one request of 32 series and splits the answer by id', async () => {
    const jobs = direct.submit(...distinct(32))
    const out = await direct.wait(jobs)
    expect(sim.stats().batchSizes).toEqual([32])
    expect(out.every((a) => a.outcome.ok && a.outcome.batch_size === 32 && a.outcome.attempts === 1)).toBe(true)
    expectSplitById(jobs, out.map((a) => (a.outcome.ok ? a.outcome.values : null)))
  })

  it('splits correctly when the answer lists the series in another order', async () => {
    const jobs = shuffled.submit(...distinct(32, 40))
    const out = await shuffled.wait(jobs)
    const answer = (JSON.parse(proxy.answers[proxy.answers.length - 1]!) as { forecasts: { id: string }[] }).forecasts.map((f) => f.id)
    expect(answer).not.toEqual(jobs.map((j) => j.series_id))
    expect([...answer].sort()).toEqual(jobs.map((j) => j.series_id).sort())
    expectSplitById(jobs, out.map((a) => (a.outcome.ok ? a.outcome.values : null)))
  })

  it('tags the members of one request with one batch id, and a failed request fails each member with it', async () => {
    const ok = await direct.wait(direct.submit(...distinct(4, 80)))
    const okIds = new Set(ok.map((a) => a.outcome.batch_id))
    expect(okIds.size).toBe(1)
    expect([...okIds][0]).toBeGreaterThan(0)
    sim.setFaults({ schedule: ['http_500'] })
    const failed = await direct.wait(direct.submit(...distinct(4, 90)))
    expect(failed.every((a) => !a.outcome.ok && a.outcome.reason === 'upstream_http_500')).toBe(true)
    const failedIds = new Set(failed.map((a) => a.outcome.batch_id))
    expect(failedIds.size).toBe(1)
    expect(failedIds).not.toEqual(okIds)
  })

  it('flushes at batch_max_series and sends the rest in the next request', async () => {
    const jobs = direct.submit(...distinct(40))
    await direct.wait(jobs)
    expect(sim.stats().batchSizes).toEqual([32, 8])
  })

  it('keeps groups apart that differ in horizon', async () => {
    const jobs = direct.submit(...distinct(3), ...distinct(2).map((j) => ({ ...j, horizon: 6 })))
    await direct.wait(jobs)
    expect([...sim.stats().batchSizes].sort()).toEqual([2, 3])
  })

  it('gives a market that appears twice in a batch a unique series id and each its own answer', async () => {
    const [a, b] = distinct(2, 70)
    const jobs = direct.submit(a!, { ...b!, series_id: a!.series_id! })
    const out = await direct.wait(jobs)
    expect(sim.stats().batchSizes).toEqual([2])
    expectSplitById(jobs, out.map((o) => (o.outcome.ok ? o.outcome.values : null)))
  })
})

describe('a lane', () => {
  const one = { ...DEFAULTS.adapter.lane, initial_inflight: 1, min_inflight: 1 }

  it('sends what queued while its upstream was busy as one request when its slot frees', async () => {
    const h = await Harness.start(sim.url, { batch_window_ms: 0, lane: one }, { lanes: { max_inflight: 1, queue_policy: 'predicted', queue_timeout_ms: 100 } })
    sim.setLatency({ fixedMs: 300 })
    try {
      // An idle lane sends the first job at once; the upstream is then busy for 300 ms.
      const busy = h.submit(...distinct(1, 7))
      await new Promise((r) => setTimeout(r, 20))
      const first = h.submit(...distinct(1))
      await new Promise((r) => setTimeout(r, 20))
      const second = h.submit(...distinct(1, 1))
      await h.wait([...busy, ...first, ...second])
      expect(sim.stats().batchSizes).toEqual([1, 2])
    } finally {
      sim.setLatency({ fixedMs: 2 })
      await h.close()
    }
  })

  it('sends each job alone with batch_max_series 1', async () => {
    const h = await Harness.start(sim.url, { batch_window_ms: 0, batch_max_series: 1, lane: { ...DEFAULTS.adapter.lane, initial_inflight: 8 } })
    try {
      const jobs = h.submit(...distinct(5))
      await h.wait(jobs)
      expect(sim.stats().batchSizes).toEqual([1, 1, 1, 1, 1])
      expect((await h.wait(jobs)).every((a) => a.outcome.batch_size === 1)).toBe(true)
    } finally {
      await h.close()
    }
  })
})

