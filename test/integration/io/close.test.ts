import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { sharedNow } from '../../../src/clock/clock.js'
import { CLOSE_MARGIN_MS } from '../../../src/io/host/io-host.js'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { Harness, until, verdict } from './harness.js'

/**
 * Closing the I/O actor drains instead of dropping (SPEC §2.3: nothing accepted goes unanswered):
 * queued jobs go upstream at once, requests in flight finish within their own deadlines, and
 * close() still always ends.
 */

const SILENT = fileURLToPath(new URL('../../fixtures/io/silent-actor.mjs', import.meta.url))

let sim: Simulator | null = null
let h: Harness | null = null

afterEach(async () => {
  await h?.close()
  await sim?.close()
  expect(h?.duplicates ?? []).toEqual([])
  h = null
  sim = null
})

describe('closing the I/O actor', () => {
  it('answers jobs submitted just before close from the upstream, not as upstream_unavailable', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 20 })
    h = await Harness.start(sim.url)
    const jobs = h.submit({}, {}, {})
    await h.close()
    // Answered by the time close() resolves.
    const out = await h.wait(jobs, 0)
    expect(out.map(verdict)).toEqual(Array(3).fill({ reason: 'ok', attempts: 1 }))
    expect(sim.stats().batchSizes).toEqual([3])
  })

  it('sends jobs waiting for their batch window at once when it closes', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 300 })
    const window = 1000
    h = await Harness.start(sim.url, { batch_window_ms: window })
    const start = sharedNow()
    // The upstream is busy with the first job, so the second waits for its window (its 3 s
    // deadline leaves room for the window before a 1.2 s attempt).
    const busy = h.submit({ deadline: start + 3000, horizon: 6 })
    await until(() => sim!.stats().forecastRequests === 1)
    const queued = h.submit({ deadline: start + 3000 })
    await new Promise((r) => setTimeout(r, 20))
    const closing = sharedNow()
    await h.close()
    const out = await h.wait([...busy, ...queued], 0)
    expect(out.map(verdict)).toEqual(Array(2).fill({ reason: 'ok', attempts: 1 }))
    // Sent when close began, not when its window would have ended.
    expect(out[1]!.at - closing).toBeLessThan(window)
  })

  it('lets a request in flight finish when it closes', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 300 })
    h = await Harness.start(sim.url)
    const jobs = h.submit({})
    await until(() => sim!.stats().forecastRequests === 1)
    await h.close()
    expect(verdict((await h.wait(jobs, 0))[0]!)).toEqual({ reason: 'ok', attempts: 1 })
  })

  it('waits for a deadline longer than the old fixed 2 s close timeout', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2500 })
    h = await Harness.start(sim.url)
    const start = sharedNow()
    const jobs = h.submit({ deadline: start + 4000, attempt_timeout_ms: 3500, max_retries: 0 })
    await until(() => sim!.stats().forecastRequests === 1)
    await h.close()
    expect(verdict((await h.wait(jobs, 0))[0]!)).toEqual({ reason: 'ok', attempts: 1 })
  })

  it('ends by the jobs\' deadlines when the upstream hangs, with their own verdicts', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2, schedule: ['hang', 'hang'] })
    h = await Harness.start(sim.url)
    const start = sharedNow()
    const jobs = h.submit({ deadline: start + 700, max_retries: 0 })
    await until(() => sim!.stats().forecastRequests === 1)
    await h.close()
    const out = await h.wait(jobs, 0)
    expect(verdict(out[0]!)).toEqual({ reason: 'upstream_timeout', attempts: 1 })
    expect(out[0]!.at).toBeLessThan(jobs[0]!.deadline)
  })

  it('terminates a thread that never finishes closing, after the latest held deadline plus the margin', async () => {
    h = await Harness.start('http://127.0.0.1:9', {}, { workerFile: SILENT })
    const start = sharedNow()
    const jobs = h.submit({ deadline: start + 300 })
    await h.close()
    const closed = sharedNow()
    expect(verdict((await h.wait(jobs, 0))[0]!)).toEqual({ reason: 'deadline_exceeded', attempts: 0 })
    expect(closed - start).toBeGreaterThanOrEqual(300 + CLOSE_MARGIN_MS - 5)
    expect(h.actor.alive).toBe(false)
  })

  it('fails jobs submitted while it closes at once', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 200 })
    h = await Harness.start(sim.url)
    h.submit({})
    await until(() => sim!.stats().forecastRequests === 1)
    const closing = h.close()
    const late = h.submit({})
    const out = await h.wait(late, 100)
    expect(verdict(out[0]!)).toEqual({ reason: 'upstream_unavailable', attempts: 0 })
    await closing
    expect(sim.stats().forecastRequests).toBe(1)
  })

  it('returns the same promise when called again while closing', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2 })
    h = await Harness.start(sim.url)
    expect(h.actor.close()).toBe(h.actor.close())
    await h.actor.close()
  })
})
