import { describe, expect, it } from 'vitest'
import { seededRandom } from '../../../src/sim/prng.js'
import type { BreakerTransition } from '../../../src/supervisor/breaker.js'
import type { ModeTransition } from '../../../src/supervisor/mode.js'
import { Answers, harness, marketBody } from '../../helpers/supervisor-harness.js'

const MIN = 60_000

/**
 * The blueprint's incident profile through the real Supervisor (its breaker, mode machine, tick,
 * periodic and client probes, health handling), on a manual clock: client traffic at 4 req/s of
 * distinct markets, an upstream that answers every job at once and fails a seeded share of them,
 * and a health probe that follows the upstream every 10 s.
 */
function incident(seed: number) {
  const h = harness()
  const rng = seededRandom(seed)
  const a = new Answers()
  const breakerEvents: BreakerTransition[] = []
  const modeEvents: ModeTransition[] = []
  h.sup.on('breaker', (e) => breakerEvents.push(e))
  h.sup.on('mode', (e) => modeEvents.push(e))
  let failShare = 0
  let step = 0

  /** Every job the upstream holds now (client flights and probes) is answered. */
  const answerUpstream = (): void => {
    for (const job of h.upstream.pending) {
      if (rng() >= failShare) h.upstream.succeed(job)
      else h.upstream.fail(job, 'upstream_http_503')
    }
  }

  /** Run for `ms`: a client request every 250 ms (the supervisor ticks every second by itself). */
  const run = (ms: number, until?: () => boolean): void => {
    for (let t = 0; t < ms; t += 250) {
      h.clock.advance(250)
      step++
      h.sup.submit(h.request(marketBody(`m-${step}`)), a)
      answerUpstream()
      if (step % 40 === 0) h.sup.onHealth({ ok: failShare === 0, version: '0.1.0', endpoint: '/api/forecast', checked_at: h.clock.now(), latency_ms: 1 })
      if (until?.()) return
    }
  }

  return {
    h,
    answers: a,
    breakerEvents,
    modeEvents,
    run,
    setFailShare: (share: number) => {
      failShare = share
    },
    modeSince: () => h.sup.state().mode.since,
  }
}

const delivered = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('the incident profile (70 % upstream failures) through the supervisor', () => {
  it.each([1, 2, 3])('reaches baseline-only within 2 simulated minutes and returns to normal through degraded after the upstream heals (seed %i)', async (seed) => {
    const sim = incident(seed)
    const { h } = sim
    sim.run(5 * MIN)
    expect(h.sup.modeName).toBe('normal')
    expect(h.sup.breakerState).toBe('closed')

    const onset = h.clock.now()
    sim.setFailShare(0.7)
    sim.run(2 * MIN, () => h.sup.modeName === 'baseline-only')
    expect(h.sup.modeName).toBe('baseline-only')
    const switched = sim.modeSince() - onset
    expect(switched).toBeGreaterThan(0)
    expect(switched).toBeLessThanOrEqual(2 * MIN)
    await delivered()
    expect(sim.breakerEvents[0]).toMatchObject({ from: 'closed', to: 'open' })

    // the rest of a 10-minute incident: baseline-only holds, the upstream sees only probes
    const jobsBefore = h.upstream.jobs.length
    sim.run(onset + 10 * MIN - h.clock.now())
    expect(h.sup.modeName).toBe('baseline-only')
    const elapsedS = (onset + 10 * MIN - sim.modeSince()) / 1000
    // one client request in 20 (4 req/s) plus one periodic probe every 5 s, at most
    expect(h.upstream.jobs.length - jobsBefore).toBeLessThanOrEqual(Math.ceil(elapsedS * (4 / 20 + 1 / 5)) + 2)
    // and every client request was answered at once, from the baseline when not from the upstream
    expect(h.sup.open).toBe(0)

    const healed = h.clock.now()
    sim.setFailShare(0)
    sim.run(60 * MIN, () => h.sup.modeName === 'normal')
    expect(h.sup.modeName).toBe('normal')
    // the breaker closes once half-open probes get through (its cooldowns doubled while failing)
    sim.run(20 * MIN, () => h.sup.breakerState === 'closed')
    expect(h.sup.breakerState).toBe('closed')
    await delivered()
    const after = sim.modeEvents.filter((e) => e.at > healed)
    expect(after.map((e) => `${e.from}>${e.to}`)).toEqual(['baseline-only>degraded', 'degraded>normal'])
    const [toDegraded, toNormal] = after
    expect(toNormal!.at - toDegraded!.at).toBeGreaterThanOrEqual(10 * MIN)
    expect(toNormal!.at - toDegraded!.at).toBeLessThanOrEqual(10 * MIN + 1000)
    // every mode change during the incident led towards baseline-only: no flapping
    const during = sim.modeEvents.filter((e) => e.at <= healed).map((e) => e.to)
    expect(during.at(-1)).toBe('baseline-only')
    expect(during.filter((to) => to !== 'baseline-only').every((to) => to === 'degraded')).toBe(true)
    expect(h.sup.state().mode.transitions).toBe(sim.modeEvents.length)
    // fresh traffic is served by the upstream again
    const before = sim.answers.answers.length
    sim.run(10_000)
    expect(sim.answers.answers.slice(before).every((r) => r.meta.runtime === 'tollama')).toBe(true)
  })
})
