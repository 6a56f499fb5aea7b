import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { sharedNow } from '../../../src/clock/clock.js'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { Harness, verdict, type Arrival } from './harness.js'
import type { UpstreamJob } from '../../../src/io/types.js'

/**
 * One upstream fault per test, through the real I/O thread and the simulator (SPEC §4, §10):
 * the reason, the number of HTTP attempts (as the simulator counted them too), and that the
 * answer reached the host before the job's deadline.
 */

let sim: Simulator
let h: Harness

/** 300 ms attempts, one retry allowed, 1.6 s deadline (makeJob's default). */
const JOB: Partial<UpstreamJob> = { attempt_timeout_ms: 300, max_retries: 1 }

beforeAll(async () => {
  sim = await startSimulator({ port: 0, latencyFixedMs: 5, latencyPerSeriesMs: 0.1, slowBodyMs: 3000, retryAfterS: 1 })
  h = await Harness.start(sim.url)
})

afterAll(async () => {
  await h.close()
  await sim.close()
  expect(h.duplicates).toEqual([])
})

beforeEach(() => {
  sim.setFaults({ schedule: [] })
  sim.resetStats()
})

async function run(schedule: Parameters<Simulator['setFaults']>[0]['schedule'], ...jobs: Partial<UpstreamJob>[]): Promise<{ jobs: UpstreamJob[]; out: Arrival[] }> {
  sim.setFaults({ schedule: schedule ?? [] })
  const submitted = h.submit(...(jobs.length === 0 ? [JOB] : jobs.map((j) => ({ ...JOB, ...j }))))
  const out = await h.wait(submitted)
  return { jobs: submitted, out }
}

function expectBeforeDeadline(jobs: UpstreamJob[], out: Arrival[]): void {
  out.forEach((a, i) => expect(a.at).toBeLessThan(jobs[i]!.deadline))
}

describe('I/O actor against upstream faults', () => {
  it('answers upstream_timeout after two attempts when tollama hangs', async () => {
    const { jobs, out } = await run(['hang', 'hang'])
    expect(verdict(out[0]!)).toEqual({ reason: 'upstream_timeout', attempts: 2 })
    expect(sim.stats().forecastRequests).toBe(2)
    expectBeforeDeadline(jobs, out)
  })

  it('cuts a hanging attempt at the deadline minus the post-processing budget', async () => {
    const start = sharedNow()
    const { jobs, out } = await run(['hang'], { attempt_timeout_ms: 5000, deadline: start + 700 })
    expect(verdict(out[0]!)).toEqual({ reason: 'upstream_timeout', attempts: 1 })
    expect(out[0]!.at).toBeGreaterThanOrEqual(start + 650)
    expectBeforeDeadline(jobs, out)
  })

  it('succeeds on the retry after a timeout when the upstream recovers', async () => {
    const { out } = await run(['hang', 'ok'])
    expect(verdict(out[0]!)).toEqual({ reason: 'ok', attempts: 2 })
  })

  it('does not retry a 500', async () => {
    const { jobs, out } = await run(['http_500', 'ok'])
    expect(verdict(out[0]!)).toEqual({ reason: 'upstream_http_500', attempts: 1 })
    expect(sim.stats().forecastRequests).toBe(1)
    expectBeforeDeadline(jobs, out)
  })

  for (const status of [502, 503, 504] as const) {
    it(`retries a ${status} once and then answers upstream_http_${status}`, async () => {
      const { jobs, out } = await run([`http_${status}`, `http_${status}`, 'ok'])
      expect(verdict(out[0]!)).toEqual({ reason: `upstream_http_${status}`, attempts: 2 })
      expect(sim.stats().forecastRequests).toBe(2)
      expectBeforeDeadline(jobs, out)
    })
  }

  it('recovers from a 503 on the retry', async () => {
    const { out } = await run(['http_503', 'ok'])
    expect(verdict(out[0]!)).toEqual({ reason: 'ok', attempts: 2 })
  })

  it('waits out a Retry-After that fits the deadline, then retries', async () => {
    const start = sharedNow()
    const { jobs, out } = await run(['http_429', 'ok'], { deadline: start + 1600 })
    expect(verdict(out[0]!)).toEqual({ reason: 'ok', attempts: 2 })
    // Retry-After: 1 → the second attempt cannot have started before a second had passed.
    expect(out[0]!.at - start).toBeGreaterThanOrEqual(1000)
    expectBeforeDeadline(jobs, out)
  })

  it('gives up at once on a Retry-After that does not fit the deadline', async () => {
    const start = sharedNow()
    const { jobs, out } = await run(['http_429', 'ok'], { deadline: start + 1200 })
    expect(verdict(out[0]!)).toEqual({ reason: 'upstream_http_429', attempts: 1 })
    expect(sim.stats().forecastRequests).toBe(1)
    expect(out[0]!.at - start).toBeLessThan(1000)
    expectBeforeDeadline(jobs, out)
  })

  it('answers upstream_unavailable after a connection reset and its retry', async () => {
    const { jobs, out } = await run(['reset', 'reset'])
    expect(verdict(out[0]!)).toEqual({ reason: 'upstream_unavailable', attempts: 2 })
    expectBeforeDeadline(jobs, out)
  })

  it('recovers from a reset on the retry (a new connection)', async () => {
    const { out } = await run(['reset', 'ok'])
    expect(verdict(out[0]!)).toEqual({ reason: 'ok', attempts: 2 })
  })

  it('times out a body that trickles past the attempt timeout', async () => {
    const { jobs, out } = await run(['slow_body', 'slow_body'])
    expect(verdict(out[0]!)).toEqual({ reason: 'upstream_timeout', attempts: 2 })
    expectBeforeDeadline(jobs, out)
  })

  it('fails every member of a batch on a truncated JSON body, without retrying', async () => {
    const { jobs, out } = await run(['invalid_json', 'ok'], {}, {})
    expect(out.map(verdict)).toEqual([
      { reason: 'upstream_invalid_payload', attempts: 1 },
      { reason: 'upstream_invalid_payload', attempts: 1 },
    ])
    expect(sim.stats().forecastRequests).toBe(1)
    expectBeforeDeadline(jobs, out)
  })

  it('fails on an HTML page instead of JSON', async () => {
    const { jobs, out } = await run(['html'])
    expect(verdict(out[0]!)).toEqual({ reason: 'upstream_invalid_payload', attempts: 1 })
    expectBeforeDeadline(jobs, out)
  })

  it('fails only the series carrying a NaN, not its batch mates', async () => {
    const { jobs, out } = await run(['nan'], { series_id: 'first' }, { series_id: 'second' })
    expect(sim.stats().batchSizes).toEqual([2])
    expect(out.map(verdict)).toEqual([
      { reason: 'upstream_invalid_payload', attempts: 1 },
      { reason: 'ok', attempts: 1 },
    ])
    expectBeforeDeadline(jobs, out)
  })

  it('fails only the series missing from the answer', async () => {
    const { jobs, out } = await run(['missing_series'], { series_id: 'a' }, { series_id: 'b' }, { series_id: 'c' })
    expect(out.map((a) => verdict(a).reason)).toEqual(['ok', 'ok', 'upstream_invalid_payload'])
    expect(out.map((a) => a.outcome.batch_size)).toEqual([3, 3, 3])
    expectBeforeDeadline(jobs, out)
  })

  it('fails every member when the answer carries the wrong ids', async () => {
    const { jobs, out } = await run(['wrong_ids'], { series_id: 'a' }, { series_id: 'b' })
    expect(out.map(verdict)).toEqual([
      { reason: 'upstream_invalid_payload', attempts: 1 },
      { reason: 'upstream_invalid_payload', attempts: 1 },
    ])
    expectBeforeDeadline(jobs, out)
  })

  it('answers upstream_model_missing for a model 404 and does not switch route', async () => {
    const { jobs, out } = await run(['model_404', 'ok'])
    expect(verdict(out[0]!)).toEqual({ reason: 'upstream_model_missing', attempts: 1 })
    expect(sim.stats().byRoute['POST /v1/forecast']).toBeUndefined()
    expect((await h.actor.stats()).endpoint).toBe('/api/forecast')
    expectBeforeDeadline(jobs, out)
  })

  it('fails each member of a failed batch individually, for breaker accounting', async () => {
    const { out } = await run(['http_500'], {}, {}, {}, {})
    expect(out.map(verdict)).toEqual(Array(4).fill({ reason: 'upstream_http_500', attempts: 1 }))
    expect(new Set(out.map((a) => a.outcome.ticket)).size).toBe(4)
  })

  it('records every HTTP request with its endpoint, outcome and series count', async () => {
    const before = h.records.length
    await run(['http_503', 'ok'], {}, {})
    expect(h.records.slice(before).map((r) => [r.endpoint, r.outcome, r.series])).toEqual([
      ['/api/forecast', 'upstream_http_503', 2],
      ['/api/forecast', 'ok', 2],
    ])
  })

  it('never leaks raw error text or URLs into a reason', () => {
    for (const a of h.arrivals.values()) {
      if (!a.outcome.ok) expect(a.outcome.reason).toMatch(/^(upstream_[a-z_]+|upstream_http_\d{3}|deadline_exceeded)$/)
    }
  })
})
