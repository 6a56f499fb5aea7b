import { afterEach, describe, expect, it } from 'vitest'
import { sharedNow } from '../../../src/clock/clock.js'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { Harness, until, verdict } from './harness.js'

/**
 * Late results (SPEC §4): an outcome for a ticket the host already failed at its deadline is
 * dropped — and counted, so the supervisor can report `late_results_dropped`.
 */

let sim: Simulator | null = null
let h: Harness | null = null

afterEach(async () => {
  await h?.close()
  await sim?.close()
  expect(h?.duplicates ?? []).toEqual([])
  h = null
  sim = null
})

describe('late results', () => {
  it('counts, once, an outcome that reaches the host after it failed the ticket at its deadline', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 600 })
    let late = 0
    h = await Harness.start(sim.url, {}, { onLate: () => late++ })
    const start = sharedNow()
    // The short job shares a request with a fresh one, which keeps the request running past the
    // short job's deadline; its answer then arrives late.
    // (It comes last: a job that cannot spare the batch window sends its group at once.)
    const jobs = h.submit({}, { deadline: start + 300, max_retries: 0 })
    const out = await h.wait(jobs)
    expect(out.map(verdict)).toEqual([
      { reason: 'ok', attempts: 1 },
      { reason: 'deadline_exceeded', attempts: 0 },
    ])
    await until(() => h!.actor.lateDropped === 1)
    expect(late).toBe(1)
    expect(h.actor.pending).toBe(0)
  })

  it('counts nothing when every outcome arrives in time', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2 })
    let late = 0
    h = await Harness.start(sim.url, {}, { onLate: () => late++ })
    await h.wait(h.submit({}, {}))
    expect(h.actor.lateDropped).toBe(0)
    expect(late).toBe(0)
  })
})
