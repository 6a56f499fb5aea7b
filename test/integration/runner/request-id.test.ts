import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createRunner, type Runner } from '../../../src/runner.js'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { probabilities } from '../../helpers/request-bodies.js'

/** The embedding API's `requestId` (issue 13): sent upstream, as the HTTP daemon's X-Request-Id. */

const FRESH = /^tsfm-[0-9a-f]{12}-[0-9a-z]+$/

let sim: Simulator
let runner: Runner

const request = (market: string) => ({ market_id: market, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) })

beforeAll(async () => {
  sim = await startSimulator({ port: 0, latencyFixedMs: 5, latencyPerSeriesMs: 0.1 })
  runner = await createRunner({
    config: { tsfm: { adapter: { base_url: sim.url, health_interval_s: 0, warmup: { enabled: false } }, perf: { math_threads: 1 } } },
    defaultMetrics: false,
    checkModels: false,
  })
})

afterAll(async () => {
  await runner.close()
  await sim.close()
})

beforeEach(() => sim.resetStats())

describe('runner.forecast({ requestId })', () => {
  it('sends the id upstream with the series', async () => {
    const a = await runner.forecast(request('emb-1'), { requestId: 'emb-req-1' })
    expect(a.meta.runtime).toBe('tollama')
    expect(sim.stats().requestIds).toEqual([{ id: 'emb-req-1', members: null }])
  })

  it('treats an invalid id as absent: the upstream request gets a generated one', async () => {
    for (const [i, bad] of ['has space', 'x'.repeat(129), ''].entries()) {
      const a = await runner.forecast(request(`emb-bad-${i}`), { requestId: bad })
      expect(a.meta.runtime).toBe('tollama')
    }
    await runner.forecast(request('emb-none'))
    const seen = sim.stats().requestIds
    expect(seen).toHaveLength(4)
    for (const s of seen) expect(s.id).toMatch(FRESH)
  })

  it("lists every caller's id when requests of one turn share an upstream request", async () => {
    const n = 6
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => runner.forecast(request(`emb-batch-${i}`), { requestId: `caller-${i}` })))
    expect(answers.every((a) => a.meta.runtime === 'tollama')).toBe(true)
    const seen = sim.stats().requestIds
    expect(sim.stats().batchSizes.some((b) => b > 1)).toBe(true)
    const sent = new Set<string>()
    for (const s of seen) {
      if (s.members === null) sent.add(s.id as string)
      else {
        expect(s.id).toMatch(FRESH)
        for (const id of s.members.split(',')) sent.add(id)
      }
    }
    expect([...sent].sort()).toEqual(Array.from({ length: n }, (_, i) => `caller-${i}`).sort())
  })
})
