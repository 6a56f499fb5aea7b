import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { sharedNow } from '../../../src/clock/clock.js'
import { TsfmError } from '../../../src/errors.js'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { Harness, until, verdict } from './harness.js'

/**
 * Supervision of the I/O thread (SPEC §10): when it dies, every job it held fails at once with
 * `upstream_unavailable`, a new thread is started, and later jobs succeed. Nothing waits forever.
 */

const SILENT = fileURLToPath(new URL('../../fixtures/io/silent-actor.mjs', import.meta.url))
const BROKEN = fileURLToPath(new URL('../../fixtures/io/broken-actor.mjs', import.meta.url))

let sim: Simulator | null = null
let h: Harness | null = null

afterEach(async () => {
  await h?.close()
  await sim?.close()
  expect(h?.duplicates ?? []).toEqual([])
  h = null
  sim = null
})

describe('I/O thread supervision', () => {
  it('fails held jobs at once when the thread is killed mid-flight, restarts it, and serves later jobs', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 800 })
    h = await Harness.start(sim.url)
    const jobs = h.submit({}, {}, {}, {}, {})
    await until(() => sim!.stats().forecastRequests === 1)
    const killedAt = sharedNow()
    h.actor.__killForTest()
    const out = await h.wait(jobs)
    expect(out.map(verdict)).toEqual(Array(5).fill({ reason: 'upstream_unavailable', attempts: 0 }))
    // Failed fast: long before the 800 ms upstream could have answered, and before the deadline.
    for (const a of out) expect(a.at - killedAt).toBeLessThan(400)
    out.forEach((a, i) => expect(a.at).toBeLessThan(jobs[i]!.deadline))
    await until(() => h!.actor.alive)
    expect(h.actor.restarts).toBe(1)
    sim.setLatency({ fixedMs: 2 })
    const later = await h.wait(h.submit({}, {}))
    expect(later.map(verdict)).toEqual(Array(2).fill({ reason: 'ok', attempts: 1 }))
    expect((await h.actor.stats()).restarts).toBe(1)
  })

  it('survives an uncaught exception inside the thread the same way', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 800 })
    h = await Harness.start(sim.url)
    const jobs = h.submit({}, {})
    await until(() => sim!.stats().forecastRequests === 1)
    h.actor.__crashForTest()
    const out = await h.wait(jobs)
    expect(out.map(verdict)).toEqual(Array(2).fill({ reason: 'upstream_unavailable', attempts: 0 }))
    await until(() => h!.actor.alive)
    sim.setLatency({ fixedMs: 2 })
    expect((await h.wait(h.submit({})))[0]!.outcome.ok).toBe(true)
  })

  it('backs off when the thread keeps dying, failing jobs submitted meanwhile at once', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2 })
    h = await Harness.start(sim.url)
    h.actor.__killForTest()
    await until(() => h!.actor.restarts === 1 && h!.actor.alive)
    // Second death within the crash-loop window: restart after a backoff, not at once.
    h.actor.__killForTest()
    await until(() => h!.actor.restarts === 2)
    expect(h.actor.alive).toBe(false)
    const during = h.submit({})
    const out = await h.wait(during)
    expect(verdict(out[0]!)).toEqual({ reason: 'upstream_unavailable', attempts: 0 })
    expect(sim.stats().forecastRequests).toBe(0)
    await until(() => h!.actor.alive)
    expect((await h.wait(h.submit({})))[0]!.outcome.ok).toBe(true)
  })

  it('answers health() and stats() even when the thread dies during the call', async () => {
    h = await Harness.start('http://127.0.0.1:9', {}, { workerFile: SILENT })
    const health = h.actor.health(true)
    const stats = h.actor.stats()
    h.actor.__killForTest()
    expect((await health).ok).toBe(false)
    expect((await stats).restarts).toBe(1)
  })

  it('fails only the job the thread cannot be sent, and serves the rest of its turn', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2 })
    h = await Harness.start(sim.url)
    // Deeper than the structured clone goes (validation refuses such params; an embedding caller
    // handing the actor a job directly is what this net is for).
    let deep: unknown = 0
    for (let i = 0; i < 20_000; i++) deep = [deep]
    const jobs = h.submit({}, { params: { deep } }, {})
    const out = await h.wait(jobs)
    expect(out.map(verdict)).toEqual([
      { reason: 'ok', attempts: 1 },
      { reason: 'upstream_unavailable', attempts: 0 },
      { reason: 'ok', attempts: 1 },
    ])
    expect(h.actor.alive).toBe(true)
  })

  it('fails a job with deadline_exceeded when its deadline passes with no outcome', async () => {
    h = await Harness.start('http://127.0.0.1:9', {}, { workerFile: SILENT })
    const start = sharedNow()
    const jobs = h.submit({ deadline: start + 150 }, { deadline: start + 100 })
    const out = await h.wait(jobs)
    expect(out.map(verdict)).toEqual(Array(2).fill({ reason: 'deadline_exceeded', attempts: 0 }))
    expect(out[0]!.at).toBeGreaterThanOrEqual(start + 150)
    expect(out[1]!.at).toBeGreaterThanOrEqual(start + 100)
    expect(h.actor.pending).toBe(0)
  })

  it('rejects start() with TSFM_INTERNAL when the thread cannot even load', async () => {
    const error = await Harness.start('http://127.0.0.1:9', {}, { workerFile: BROKEN }).then(
      () => null,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(TsfmError)
    expect((error as TsfmError).code).toBe('TSFM_INTERNAL')
    expect((error as TsfmError).message).toBe('I/O actor thread failed to start: broken I/O actor fixture')
  })

  it('fails jobs submitted after close at once', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2 })
    h = await Harness.start(sim.url)
    await h.close()
    const out = await h.wait(h.submit({}))
    expect(verdict(out[0]!)).toEqual({ reason: 'upstream_unavailable', attempts: 0 })
    expect(h.actor.alive).toBe(false)
  })
})
